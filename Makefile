# covet: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
DEPS := $(VENV)/.deps-installed
BUILT := $(VENV)/.covet-built
RUST_SOURCES := $(shell find crates -name '*.rs' -o -name Cargo.toml) Cargo.toml pyproject.toml

.PHONY: docs docs-serve coverage wheel run test build lint fmt bench bench-quick bench-memory bench-json bench-ws bench-cache bench-static bench-tools clean rust-test py-test services compat

run: build
	$(PY) -m covet run examples.hello.app:app --host 127.0.0.1 --port 8000

test: build rust-test py-test

build: $(BUILT)

$(DEPS): pyproject.toml Makefile requirements-dev.txt
	@command -v cargo >/dev/null || { echo "covet needs a Rust toolchain (cargo) to build its engine"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(BUILT): $(DEPS) $(RUST_SOURCES)
	VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH maturin develop --release -q
	touch $@

rust-test:
	cargo test -p covet-engine
	cargo test -p http-diff

py-test: build services
	$(PY) -m pytest

# Real PostgreSQL and Redis on loopback for the tests: started, or installed, when missing.
services:
	./scripts/services.sh

lint: $(DEPS)
	cargo fmt --all --check
	cargo clippy -p covet-engine -p covet-py -p http-diff --all-targets -- -D warnings
	$(VENV)/bin/ruff check python tests examples benchmarks chaos scripts
	$(PY) scripts/check_layers.py  # python/covet: no import cycle, no reach into the app's privates
	$(PY) scripts/check_rust_layers.py  # crates/covet-py: convert/ never uses protocol/, no module cycle

fmt: $(DEPS)
	cargo fmt --all
	$(VENV)/bin/ruff format python tests examples benchmarks chaos

bench: build bench-tools
	$(PY) benchmarks/run.py

bench-quick: build bench-tools
	$(PY) benchmarks/run.py --quick --servers covet,fastapi,hyper --scenarios json,params,body

# wrk and taskset for the benchmarks: installed (Debian packages) when missing.
bench-tools:
	./scripts/bench-tools.sh

# Hello app's RSS after 10k vs 1M requests (and 100k without keep-alive), against FastAPI's.
bench-memory: build
	$(PY) benchmarks/memory.py

# covet's JSON encoder against orjson, ns per call on the bench payloads and common shapes.
bench-json: build
	$(PY) benchmarks/json_encoder.py

# WebSockets: idle memory per connection, a 10,000-member broadcast, echo against FastAPI.
bench-ws: build
	$(PY) -m benchmarks.ws.run

# Caching: a cache hit on covet against FastAPI + fastapi-cache2 (memory, Redis); Zipf hit rates.
bench-cache: build bench-tools services
	$(PY) -m benchmarks.cache.run

# Static files: covet's engine vs nginx vs Starlette's StaticFiles on uvicorn (1 kB, 1 MB).
bench-static: build bench-tools
	$(PY) benchmarks/run.py --servers covet,nginx,starlette --scenarios static-1k,static-1m --results static-latest

# FastAPI's own test suite against covet (imports aliased; ../shared/compat): the share that passes.
COMPAT ?= $(CURDIR)/../shared/compat/run.sh
compat: build
	@test -x $(COMPAT) || { echo "the FastAPI compatibility suite is not at $(COMPAT) (set COMPAT=)"; exit 2; }
	$(COMPAT) $(PY)

# Line coverage of python/covet (coverage.py, across the processes the tests start) and of the
# Rust engine crate under its own tests (cargo-llvm-cov, installed from crates.io when missing).
coverage: build services
	rm -f .coverage .coverage.*
	$(PY) -m coverage run -m pytest -p no:cacheprovider
	$(PY) -m coverage combine -q
	$(PY) -m coverage report | grep TOTAL  # the last line may be a note on skipped empty files
	@cargo llvm-cov --version >/dev/null 2>&1 || { rustup component add llvm-tools-preview && cargo install cargo-llvm-cov --locked; } \
	  || echo "cargo-llvm-cov could not be installed: no Rust coverage"
	-cargo llvm-cov -p covet-engine --summary-only | tail -1

# The documentation site (mkdocs-material, docs/ and mkdocs.yml) into site/, warnings as errors;
# `make docs-serve` serves it with live reload on 127.0.0.1:8001.
docs: $(DEPS)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-serve: $(DEPS)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve -a 127.0.0.1:8001

# A wheel of covet for this machine's CPython (manylinux; no Rust toolchain needed to install it).
wheel: $(DEPS)
	$(VENV)/bin/maturin build --release -o dist

clean:
	rm -rf target $(VENV) .pytest_cache dist

# Fault scenarios under load (issue 15; docs/chaos.md): own Redis and PostgreSQL processes on
# free loopback ports, never the shared ones; about two minutes; not part of `make test`.
.PHONY: chaos
chaos: build services
	$(PY) -m chaos.run
