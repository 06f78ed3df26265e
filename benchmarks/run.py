#!/usr/bin/env python3
"""Side-by-side benchmark of covet against its peers and the hyper limit.

Run from the repository root:  python3 benchmarks/run.py [--quick] [--servers ...]

How it measures (the method in shared/BENCHMARKING.md, re-implemented here): the server
runs pinned to CPU 0, wrk runs pinned to CPU 1 (-t1, -c64). For each scenario a warm-up
run is followed by a measured run; the server's CPU time (utime + stime from
/proc/PID/stat, summed over the process and all its descendants) across the measured
run, divided by the requests wrk completed, gives CPU microseconds per request. That
figure does not depend on how fast the load generator is, which is why it is the
headline, as a ratio against FastAPI and against hyper measured in the same run (the
machine is shared, so only figures taken side by side are comparable).

Standard library only, so it runs before anything is installed; peers install themselves
into benchmarks/.venv (from requirements-peers.txt), covet's app gets asyncpg and jinja2 in
benchmarks/.covet-deps, and the hyper server builds itself with cargo on first use. The
database scenarios use the PostgreSQL at COVET_BENCH_DSN (benchmarks/db_setup.py prepares
it) and are skipped, with the reason, when it cannot be reached.

`--check` sends each scenario's request once to each server and compares status,
content type and body with covet's, instead of measuring.

This file is the entry point (`make bench`); the parts are beside it, one concern each:
harness.py (paths, CPUs, errors, logging), scenarios.py and servers.py (the registries),
provision.py (venvs, packages, database, hyper build), lifecycle.py (starting and stopping a
server), wrk.py, procfs.py (CPU and memory readings), measure.py (the run), check.py
(`--check`) and report.py (tables, latest.json, chart)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.check import run_check  # noqa: E402
from benchmarks.harness import exit_on_signal, log  # noqa: E402
from benchmarks.measure import Options, run_bench  # noqa: E402
from benchmarks.provision import prepare_database  # noqa: E402
from benchmarks.report import exit_code, publish  # noqa: E402
from benchmarks.scenarios import DEFAULT_SCENARIOS, SCENARIOS, STATIC_SCENARIOS  # noqa: E402
from benchmarks.servers import DEFAULT_SERVERS, SERVERS  # noqa: E402
from benchmarks.static import ENV as STATIC_ENV  # noqa: E402
from benchmarks.static import static_root  # noqa: E402


def _names(value: str, known: dict[str, object], kind: str) -> list[str]:
    """Parse a comma-separated list of registry names, rejecting unknown ones."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {kind} {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}"
        )
    return names


def parse_args(argv: list[str] | None) -> Options:
    """Parse options; the 5 s minimum keeps figures stable unless --quick is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--servers",
        type=lambda v: _names(v, SERVERS, "server"),
        default=list(DEFAULT_SERVERS),
        help=f"comma-separated, from: {', '.join(SERVERS)} (default: %(default)s)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda v: _names(v, SCENARIOS, "scenario"),
        default=list(DEFAULT_SCENARIOS),
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: %(default)s)",
    )
    parser.add_argument("--duration", type=int, help="measured seconds (default 5)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds, 0 to skip (default 2)")
    parser.add_argument("--runs", type=int, help="measured runs per scenario, the median reported (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="warm-up 1 s, measured runs of 2 s: for checking a change, not for figures",
    )
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="added to every server's port, for a run beside another on the same machine",
    )
    parser.add_argument(
        "--results",
        default="latest",
        help="results file name under benchmarks/results/ (default latest; others get no chart)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if any server or scenario failed")
    parser.add_argument(
        "--check",
        action="store_true",
        help="send each scenario once per server and compare the answers with covet's; no measuring",
    )
    args = parser.parse_args(argv)
    if args.port_offset:
        for name, server in SERVERS.items():
            SERVERS[name] = dataclasses.replace(server, port=server.port + args.port_offset)
    # Whole seconds: wrk's -d takes no fractions.
    duration = args.duration if args.duration is not None else (2 if args.quick else 5)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    if duration < 5 and not args.quick:
        parser.error("--duration below 5 s gives unstable figures; add --quick to allow it")
    runs = args.runs if args.runs is not None else 3
    if duration < 1 or warmup < 0 or args.connections < 1 or runs < 1:
        parser.error("need --duration >= 1, --warmup >= 0, --runs >= 1 and --connections >= 1")
    return Options(
        servers=list(dict.fromkeys(args.servers)),
        scenarios=list(dict.fromkeys(args.scenarios)),
        duration=duration,
        warmup=warmup,
        runs=runs,
        connections=args.connections,
        strict=args.strict,
        check=args.check,
        results=args.results,
    )


def main(argv: list[str] | None = None) -> int:
    """Benchmark each chosen server in turn and write the results."""
    opts = parse_args(argv)
    # Turn SIGTERM into SystemExit so the `finally` blocks stop the server under test.
    signal.signal(signal.SIGTERM, exit_on_signal)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found (apt-get install -y {tool})", file=sys.stderr)
            return 2
    if (os.cpu_count() or 1) < 2:
        log("warning: fewer than 2 CPUs; server and wrk will share a core")
    if any(SCENARIOS[name].db for name in opts.scenarios):
        why = prepare_database()
        if why is not None:
            log(f"skipping the database scenarios: {why}")
            opts.skipped = {name: why for name in opts.scenarios if SCENARIOS[name].db}
    with tempfile.TemporaryDirectory(prefix="covet-bench-") as tmpdir:
        if STATIC_SCENARIOS & set(opts.scenarios):
            # Every server (and nginx's configuration) serves the same files.
            os.environ[STATIC_ENV] = str(static_root(Path(tmpdir)))
        if opts.check:
            print(run_check(opts, Path(tmpdir)))
            return 0
        report = run_bench(opts, Path(tmpdir))
    publish(report, opts.results)
    return exit_code(report["servers"], opts.scenarios, opts.strict)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
