"""The servers under test and how each is started. A new peer is one entry in SERVERS (plus
its app module under benchmarks/apps/ and its packages in requirements-peers.txt)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import COVET_DEPS_DIR, HOST, HYPER_BIN, REPO_ROOT, Unavailable
from benchmarks.provision import build_hyper, ensure_covet_deps, ensure_venv, venv_bin
from benchmarks.scenarios import DB_SCENARIOS, SCENARIOS, STATIC_SCENARIOS
from benchmarks.static import nginx_command, nginx_setup


@dataclass(frozen=True)
class Server:
    """How to prepare and start one server under test.

    `command` is built lazily (after `setup`) because some commands point at files
    that setup creates (the venv's uvicorn, the cargo binary).
    """

    name: str
    label: str
    port: int
    command: Callable[[int], list[str]]
    setup: Callable[[], None] | None = None
    cwd: Path = REPO_ROOT
    env: dict[str, str] = field(default_factory=dict)
    # Scenarios this server has no endpoint for (shown as n/a, not as failures).
    lacks: frozenset[str] = frozenset()


def uvicorn_command(app: str) -> Callable[[int], list[str]]:
    """Command for an ASGI app under uvicorn with its fastest loop and parser."""

    def build(port: int) -> list[str]:
        return [
            venv_bin("uvicorn"),
            app,
            "--host", HOST,
            "--port", str(port),
            "--loop", "uvloop",
            "--http", "httptools",
            "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip

    return build


def covet_command(port: int) -> list[str]:
    """Command for covet, on this interpreter: the one covet's build installs into."""
    return [
        sys.executable, "-m", "covet", "run", "benchmarks.apps.covet_app:app",
        "--host", HOST,
        "--port", str(port),
        "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip


def hyper_command(port: int) -> list[str]:
    """The hyper limit takes only its port."""
    return [str(HYPER_BIN), str(port)]


def robyn_command(port: int) -> list[str]:
    """Robyn runs its own server: one process, one worker thread; port from ROBYN_PORT."""
    return [
        "env", f"ROBYN_PORT={port}",
        venv_bin("python"), "-m", "benchmarks.apps.robyn_app",
        "--processes", "1",
        "--workers", "1",
        "--log-level", "WARN",
        "--disable-openapi",
    ]  # fmt: skip


def granian_command(app: str) -> Callable[[int], list[str]]:
    """An ASGI app under granian: one worker, one runtime thread, one blocking thread (the
    Python one), a single-threaded runtime, uvloop, HTTP/1 only, no websockets."""

    def build(port: int) -> list[str]:
        return [
            venv_bin("granian"),
            "--interface", "asgi",
            "--host", HOST,
            "--port", str(port),
            "--workers", "1",
            "--runtime-mode", "st",
            "--runtime-threads", "1",
            "--blocking-threads", "1",
            "--loop", "uvloop",
            "--http", "1",
            "--no-ws",
            "--no-access-log",
            "--log-level", "warning",
            app,
        ]  # fmt: skip

    return build


def peer_setup(*distributions: str) -> Callable[[], None]:
    """Make a setup step: benchmarks/.venv is current, and `distributions` (names as in
    requirements-peers.txt) installed; otherwise the peer is unavailable."""

    def setup() -> None:
        failed = ensure_venv()
        missing = {d: failed[d] for d in distributions if d in failed}
        if missing:
            reasons = "; ".join(f"{d}: {why}" for d, why in missing.items())
            raise Unavailable(f"did not install on this machine ({reasons})")

    return setup


SERVERS: dict[str, Server] = {
    s.name: s
    for s in (
        Server(
            "covet",
            "covet",
            8101,
            covet_command,
            setup=lambda: ensure_covet_deps(),
            env={"PYTHONPATH": str(COVET_DEPS_DIR)},
        ),
        # covet with its engine middleware (CORS, security headers, a per-IP rate limit that
        # never refuses here), on json only: the middleware's cost per request, side by side.
        Server(
            "covet+mw",
            "covet+middleware",
            8109,
            covet_command,
            setup=lambda: ensure_covet_deps(),
            env={"PYTHONPATH": str(COVET_DEPS_DIR), "COVET_BENCH_MIDDLEWARE": "1"},
            lacks=frozenset(SCENARIOS) - {"json"},
        ),
        # covet with engine metrics on (covet.metrics.instrument: counters and a latency
        # histogram per route, access log off as for every server), on json only: their cost.
        Server(
            "covet+metrics",
            "covet+metrics",
            8110,
            covet_command,
            setup=lambda: ensure_covet_deps(),
            env={"PYTHONPATH": str(COVET_DEPS_DIR), "COVET_BENCH_METRICS": "1"},
            lacks=frozenset(SCENARIOS) - {"json"},
        ),
        # covet with covet.logs.request_logging: a request id and a JSON access line per request
        # (written to /dev/null by the engine), on json only: their cost.
        Server(
            "covet+logs",
            "covet+logs",
            8111,
            covet_command,
            setup=lambda: ensure_covet_deps(),
            env={"PYTHONPATH": str(COVET_DEPS_DIR), "COVET_BENCH_LOGS": "1"},
            lacks=frozenset(SCENARIOS) - {"json"},
        ),
        Server(
            "fastapi",
            "FastAPI",
            8102,
            uvicorn_command("benchmarks.apps.fastapi_app:app"),
            setup=peer_setup("fastapi", "uvicorn", "asyncpg", "jinja2"),
            lacks=STATIC_SCENARIOS,
        ),
        Server(
            "starlette",
            "Starlette",
            8104,
            uvicorn_command("benchmarks.apps.starlette_app:app"),
            setup=peer_setup("starlette", "uvicorn", "asyncpg", "jinja2"),
        ),
        Server(
            "blacksheep",
            "BlackSheep",
            8105,
            uvicorn_command("benchmarks.apps.blacksheep_app:app"),
            setup=peer_setup("blacksheep", "uvicorn", "asyncpg", "jinja2"),
            lacks=STATIC_SCENARIOS,
        ),
        Server(
            "litestar",
            "Litestar",
            8106,
            uvicorn_command("benchmarks.apps.litestar_app:app"),
            setup=peer_setup("litestar", "uvicorn", "asyncpg", "jinja2"),
            lacks=STATIC_SCENARIOS,
        ),
        Server(
            "robyn",
            "Robyn",
            8107,
            robyn_command,
            setup=peer_setup("robyn", "asyncpg", "jinja2"),
            lacks=STATIC_SCENARIOS,
        ),
        Server(
            "granian",
            "FastAPI+granian",
            8108,
            granian_command("benchmarks.apps.fastapi_app:app"),
            setup=peer_setup("fastapi", "granian", "asyncpg", "jinja2"),
            lacks=STATIC_SCENARIOS,
        ),
        # The HTTP limit only: it has no database endpoints and serves no files.
        Server(
            "hyper",
            "hyper",
            8103,
            hyper_command,
            setup=lambda: build_hyper(),
            lacks=DB_SCENARIOS | STATIC_SCENARIOS,
        ),
        # The static-file limit: Debian's nginx, on the static scenarios only.
        Server("nginx", "nginx", 8111, nginx_command, setup=nginx_setup, lacks=frozenset(SCENARIOS) - STATIC_SCENARIOS),
    )
}
DEFAULT_SERVERS = tuple(SERVERS)
