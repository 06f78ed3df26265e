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
content type and body with covet's, instead of measuring."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_DIR = BENCH_DIR / ".venv"
VENV_MARKER = VENV_DIR / ".covet-bench-requirements.json"
PEERS_REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"
COVET_DEPS_DIR = BENCH_DIR / ".covet-deps"
COVET_DEPS_MARKER = COVET_DEPS_DIR / ".covet-bench-requirements.json"
COVET_REQUIREMENTS = BENCH_DIR / "requirements-covet.txt"
DB_SETUP = BENCH_DIR / "db_setup.py"
PLOT = BENCH_DIR / "plot.py"
HYPER_DIR = BENCH_DIR / "hyper-limit"
HYPER_BIN = HYPER_DIR / "target" / "release" / "hyper-limit"

HOST = "127.0.0.1"  # loopback only, by rule
SERVER_CPU = "0"
LOADGEN_CPU = "1"
# The first start may compile bytecode; a server slower than this to answer is broken.
STARTUP_TIMEOUT_S = 30.0
STOP_GRACE_S = 3.0
SUBJECT = "covet"  # the server whose ratios are the headline
REFERENCES = ("fastapi", "hyper")  # ratio columns: SUBJECT / each of these
LIMIT = "hyper"  # not a peer: the "lower than every peer?" column leaves it out
VARIANTS = ("covet+mw",)  # covet itself with options on: not a peer either


class BenchError(Exception):
    """A failure of one server or scenario: reported in the table, never fatal."""


class Unavailable(BenchError):
    """A server that cannot be run on this machine (its packages did not install)."""


# --------------------------------------------------------------------------------------
# Registries. A new scenario or peer is one entry here (plus its app module for a peer).
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One request shape that wrk repeats; `body` (if any) is sent as JSON."""

    name: str
    method: str
    path: str
    body: object | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The status every response must have; wrk's "non-2xx" count is then not an error.
    expect_status: int = 200
    # Needs PostgreSQL: skipped, with the reason, when it is not reachable.
    db: bool = False
    # How --check compares bodies with covet's: "exact" (after JSON normalisation) or
    # "shape" (random values: the same keys, lengths and value types).
    compare: str = "exact"

    def request_headers(self) -> dict[str, str]:
        """Headers to send, with the JSON content type added when there is a body."""
        headers = dict(self.headers)
        if self.body is not None:
            headers.setdefault("Content-Type", "application/json")
        return headers

    def body_bytes(self) -> bytes | None:
        """The body exactly as sent (compact JSON, like a typical API client)."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":")).encode()


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("json", "GET", "/json"),
        Scenario("plaintext", "GET", "/plaintext"),
        Scenario("params", "GET", "/users/42?q=hello"),
        Scenario(
            "body",
            "POST",
            "/items/7",
            {"name": "Widget", "price": 9.5, "tags": ["tools", "sale"]},
        ),
        Scenario("large", "GET", "/large"),
        Scenario("404", "GET", "/does-not-exist", expect_status=404),
        # TechEmpower-style, against PostgreSQL (benchmarks/db_setup.py, apps/common.py).
        Scenario("db", "GET", "/db", db=True, compare="shape"),
        Scenario("queries", "GET", "/queries?n=20", db=True, compare="shape"),
        Scenario("fortunes", "GET", "/fortunes", db=True),
        Scenario("updates", "GET", "/updates?n=20", db=True, compare="shape"),
    )
}
DEFAULT_SCENARIOS = tuple(SCENARIOS)


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


def venv_bin(tool: str) -> str:
    """Path of an executable inside the peers' venv."""
    return str(VENV_DIR / "bin" / tool)


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


DB_SCENARIOS = frozenset(s.name for s in SCENARIOS.values() if s.db)

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
        Server(
            "fastapi",
            "FastAPI",
            8102,
            uvicorn_command("benchmarks.apps.fastapi_app:app"),
            setup=peer_setup("fastapi", "uvicorn", "asyncpg", "jinja2"),
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
        ),
        Server(
            "litestar",
            "Litestar",
            8106,
            uvicorn_command("benchmarks.apps.litestar_app:app"),
            setup=peer_setup("litestar", "uvicorn", "asyncpg", "jinja2"),
        ),
        Server(
            "robyn",
            "Robyn",
            8107,
            robyn_command,
            setup=peer_setup("robyn", "asyncpg", "jinja2"),
        ),
        Server(
            "granian",
            "FastAPI+granian",
            8108,
            granian_command("benchmarks.apps.fastapi_app:app"),
            setup=peer_setup("fastapi", "granian", "asyncpg", "jinja2"),
        ),
        # The HTTP limit only: it has no database endpoints.
        Server("hyper", "hyper", 8103, hyper_command, setup=lambda: build_hyper(), lacks=DB_SCENARIOS),
    )
}
DEFAULT_SERVERS = tuple(SERVERS)


# --------------------------------------------------------------------------------------
# Setup helpers
# --------------------------------------------------------------------------------------


def run_logged(cmd: list[str], what: str, timeout: float, env: dict[str, str] | None = None) -> None:
    """Run a setup command; its output is shown only when it fails, as the error."""
    log(f"{what}: {' '.join(cmd)}")
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"{what} failed: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-3000:]
        raise BenchError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blanks dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _distribution(requirement: str) -> str:
    """'uvicorn[standard]==0.54.0' -> 'uvicorn' (lower case, as Server setups name them)."""
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    return (match.group(0) if match else requirement).lower()


def _file_hash(path: Path) -> str:
    """SHA-256 of a requirements file: the marker that says what a directory holds."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_marker(marker: Path) -> dict[str, object]:
    """The JSON marker a previous install left, or {} if none (or unreadable)."""
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pip_install(pip: list[str], requirements: Path) -> dict[str, str]:
    """Install a requirements file; if that fails, each line on its own.

    Returns the distributions that did not install, each with the last line pip said, so
    one peer that has no wheel for this machine does not take the others down with it.
    """
    try:
        run_logged([*pip, "-r", str(requirements)], "pip install", 900)
        return {}
    except BenchError as exc:
        log(f"installing {requirements.name} at once failed ({str(exc).splitlines()[-1]}); one at a time")
    failed: dict[str, str] = {}
    for requirement in _requirement_lines(requirements):
        try:
            run_logged([*pip, requirement], "pip install", 900)
        except BenchError as exc:
            failed[_distribution(requirement)] = str(exc).strip().splitlines()[-1][:300]
    return failed


@functools.cache
def ensure_venv() -> dict[str, str]:
    """Make benchmarks/.venv hold requirements-peers.txt; return what failed to install.

    The venv keeps a marker with the file's hash: pip runs only when the file has
    changed since the last install (or the venv is new). Once per run.
    """
    want = _file_hash(PEERS_REQUIREMENTS)
    marker = _read_marker(VENV_MARKER)
    python = Path(venv_bin("python"))
    if python.exists() and marker.get("sha256") == want:
        return dict(marker.get("failed") or {})  # type: ignore[call-overload]
    if not python.exists():
        try:
            run_logged([sys.executable, "-m", "venv", str(VENV_DIR)], "create venv", 300)
        except BenchError as exc:
            why = str(exc).splitlines()[-1][:300]
            return {_distribution(r): why for r in _requirement_lines(PEERS_REQUIREMENTS)}
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    failed = _pip_install(pip, PEERS_REQUIREMENTS)
    VENV_MARKER.write_text(json.dumps({"sha256": want, "failed": failed}, indent=2) + "\n")
    return failed


@functools.cache
def ensure_covet_deps() -> None:
    """Install requirements-covet.txt into benchmarks/.covet-deps with covet's interpreter.

    It goes on the covet server's PYTHONPATH (and nowhere else), so the project's venv
    gets nothing new. Reinstalled only when the file changes. Without it covet still runs,
    but its database endpoints cannot: the database scenarios then fail for covet.
    """
    want = _file_hash(COVET_REQUIREMENTS)
    if _read_marker(COVET_DEPS_MARKER).get("sha256") == want:
        return
    shutil.rmtree(COVET_DEPS_DIR, ignore_errors=True)
    pip = [
        sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
        "--target", str(COVET_DEPS_DIR),
    ]  # fmt: skip
    failed = _pip_install(pip, COVET_REQUIREMENTS)
    if failed:
        log(f"warning: covet's app lacks {', '.join(failed)}: its database scenarios will fail")
    COVET_DEPS_DIR.mkdir(exist_ok=True)
    COVET_DEPS_MARKER.write_text(json.dumps({"sha256": want, "failed": failed}, indent=2) + "\n")


def prepare_database() -> str | None:
    """Create or refresh the tables (db_setup.py, in the peers' venv); None if ready,
    otherwise why the database scenarios are skipped."""
    failed = ensure_venv()
    if "asyncpg" in failed:
        return f"asyncpg did not install into benchmarks/.venv ({failed['asyncpg']})"
    try:
        proc = subprocess.run(
            [venv_bin("python"), str(DB_SETUP)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=REPO_ROOT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"db_setup.py did not run: {exc}"
    said = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        return said.splitlines()[-1] if said else f"db_setup.py exited {proc.returncode}"
    log(said)
    return None


def build_hyper() -> None:
    """Build the hyper limit if its binary is missing or older than its sources."""
    sources = [HYPER_DIR / "Cargo.toml", *sorted((HYPER_DIR / "src").rglob("*.rs"))]
    if HYPER_BIN.exists():
        built = HYPER_BIN.stat().st_mtime
        if all(src.stat().st_mtime <= built for src in sources):
            return
    if shutil.which("cargo") is None:
        raise BenchError("cargo not found: needed to build benchmarks/hyper-limit")
    env = {**os.environ, "CARGO_TARGET_DIR": str(HYPER_DIR / "target")}
    run_logged(
        [
            "cargo",
            "build",
            "--release",
            "--manifest-path",
            str(HYPER_DIR / "Cargo.toml"),
        ],
        "cargo build hyper-limit",
        900,
        env=env,
    )


# --------------------------------------------------------------------------------------
# /proc readings
# --------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat, after the comm (which may hold spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """`root` and all its live descendants: workers and threads' owners all cost CPU."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))  # field 4: ppid
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(root: int) -> int:
    """utime + stime (fields 14 and 15) summed over the tree, in clock ticks."""
    total = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total


def status_kib(root: int, key: str) -> int:
    """One kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon...) summed over the tree, in KiB."""
    total = 0
    pattern = re.compile(rf"^{re.escape(key)}:\s+(\d+)\s+kB", re.MULTILINE)
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = pattern.search(status)
        if match:
            total += int(match.group(1))
    return total


def peak_rss_kib(root: int) -> int:
    """VmHWM (peak resident set) summed over the tree, in KiB."""
    return status_kib(root, "VmHWM")


# --------------------------------------------------------------------------------------
# Server lifecycle
# --------------------------------------------------------------------------------------


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on HOST:port."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def fetch(port: int, scenario: Scenario, timeout: float = 2) -> tuple[int, str, bytes]:
    """Send the scenario's request once: status, content type and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(
            scenario.method, scenario.path, body=scenario.body_bytes(),
            headers=scenario.request_headers(),
        )  # fmt: skip
        response = conn.getresponse()
        body = response.read()
        return response.status, response.getheader("content-type", ""), body
    finally:
        conn.close()


def probe(port: int, scenario: Scenario) -> int:
    """Send the scenario's request once and return the status code."""
    return fetch(port, scenario)[0]


class RunningServer:
    """A server pinned to SERVER_CPU, in its own session so its whole group can die."""

    def __init__(self, server: Server, log_path: Path, env: dict[str, str] | None = None) -> None:
        """Start the server (with `env` added); its output goes to `log_path`."""
        self.server = server
        self.log_path = log_path
        self._log = log_path.open("wb")
        cmd = ["taskset", "-c", SERVER_CPU, *server.command(server.port)]
        log(f"start {server.name}: {' '.join(cmd)}")
        self.proc = subprocess.Popen(
            cmd,
            cwd=server.cwd,
            env={**os.environ, **server.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """PID of the server (taskset execs the command, so it is the server itself)."""
        return self.proc.pid

    def output(self, limit: int = 4000) -> str:
        """The tail of what the server printed, for failure messages."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").strip()
        return text[-limit:] if text else "(no output)"

    def check_alive(self) -> None:
        """Raise with the server's output if it has exited."""
        code = self.proc.poll()
        if code is not None:
            raise BenchError(f"server exited with code {code}; its output:\n{self.output()}")

    def wait_ready(self, scenario: Scenario) -> None:
        """Wait until the port accepts and `scenario` answers its expected status."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last = "port never accepted a connection"
        while time.monotonic() < deadline:
            self.check_alive()
            if port_open(self.server.port):
                try:
                    status = probe(self.server.port, scenario)
                except (OSError, http.client.HTTPException) as exc:
                    last = f"{scenario.method} {scenario.path} failed: {exc!r}"
                else:
                    if status == scenario.expect_status:
                        return
                    last = f"{scenario.method} {scenario.path} answered {status}"
            time.sleep(0.1)
        raise BenchError(f"not ready after {STARTUP_TIMEOUT_S:.0f} s ({last}); its output:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after STOP_GRACE_S: leave no server behind."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_GRACE_S)
        # Kill the group even if the leader exited: its workers may still hold the port.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log(f"warning: {self.server.name} (pid {self.proc.pid}) did not die")
        self._log.close()


# --------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------


def lua_string(data: bytes) -> str:
    """Quote `data` for Lua; decimal escapes work in every Lua that wrk may embed."""
    out = []
    for byte in data:
        char = chr(byte)
        if 0x20 <= byte < 0x7F and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\{byte}")
    return '"' + "".join(out) + '"'


def wrk_script(scenario: Scenario, directory: Path) -> Path | None:
    """Write the wrk Lua script a scenario needs (None for a plain GET)."""
    headers = scenario.request_headers()
    body = scenario.body_bytes()
    if scenario.method == "GET" and not headers and body is None:
        return None
    lines = [f"wrk.method = {lua_string(scenario.method.encode())}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{lua_string(name.encode())}] = {lua_string(value.encode())}")
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    path = directory / f"{scenario.name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class WrkResult:
    """What we keep from one measured wrk run."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    non2xx: int
    socket_errors: int


_TIME_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _to_ms(text: str) -> float:
    """Convert a wrk duration ('812.00us', '1.20ms', '2.00s') to milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise BenchError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Parse wrk's text report (with --latency)."""
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not done or not rps:
        raise BenchError(f"unparsable wrk output:\n{output.strip()[-2000:]}")
    latency = {pct: _to_ms(value) for pct, value in re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_to_ms(done.group(2) + done.group(3)) / 1e3,
        rps=float(rps.group(1)),
        p50_ms=latency.get("50"),
        p99_ms=latency.get("99"),
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run_wrk(port: int, scenario: Scenario, script: Path | None, seconds: int, connections: int) -> str:
    """Run wrk pinned to LOADGEN_CPU and return its report."""
    cmd = [
        "taskset", "-c", LOADGEN_CPU,
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
    ]  # fmt: skip
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(f"http://{HOST}:{port}{scenario.path}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        said = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        raise BenchError(f"wrk failed (exit {proc.returncode}): {' '.join(cmd)}\n{said}")
    return proc.stdout


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


@dataclass
class Options:
    """Validated command-line options."""

    servers: list[str]
    scenarios: list[str]
    duration: int
    warmup: int
    connections: int
    strict: bool
    check: bool = False
    # Scenarios chosen but not run, with the reason (PostgreSQL not reachable).
    skipped: dict[str, str] = field(default_factory=dict)


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the result tables."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def measure_scenario(running: RunningServer, scenario: Scenario, opts: Options, tmp: Path) -> dict[str, object]:
    """Warm up, then take the measured run and the CPU ticks around it."""
    script = wrk_script(scenario, tmp)
    port = running.server.port
    if opts.warmup > 0:
        run_wrk(port, scenario, script, opts.warmup, opts.connections)
    running.check_alive()
    hz = os.sysconf("SC_CLK_TCK")
    ticks0 = cpu_ticks(running.pid)
    output = run_wrk(port, scenario, script, opts.duration, opts.connections)
    ticks1 = cpu_ticks(running.pid)
    running.check_alive()
    result = parse_wrk(output)
    if result.requests == 0:
        raise BenchError("wrk completed no requests")
    cpu_s = (ticks1 - ticks0) / hz
    # wrk counts every non-2xx response; for a scenario that expects one (404), the
    # unexpected ones are the others.
    if scenario.expect_status < 300:
        unexpected = result.non2xx
    else:
        unexpected = result.requests - result.non2xx
    return {
        "status": "ok",
        "requests": result.requests,
        "seconds": result.seconds,
        "rps": result.rps,
        "cpu_seconds": cpu_s,
        "cpu_us_per_req": cpu_s * 1e6 / result.requests,
        "cpu_share": cpu_s / result.seconds if result.seconds else None,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "non2xx": result.non2xx,
        "expect_status": scenario.expect_status,
        "unexpected_status": unexpected,
        "socket_errors": result.socket_errors,
        "peak_rss_mib": peak_rss_kib(running.pid) / 1024,
    }


def planned(server: Server, opts: Options) -> tuple[list[str], dict[str, dict[str, object]]]:
    """The scenarios to run on `server`, and the records of those it will not run."""
    todo, records = [], {}
    for name in opts.scenarios:
        if name in server.lacks:
            records[name] = {"status": "n/a", "error": f"{server.label} has no such endpoint"}
        elif name in opts.skipped:
            records[name] = {"status": "skipped", "error": opts.skipped[name]}
        else:
            todo.append(name)
    return todo, records


def start_server(server: Server, todo: list[str], tmp: Path) -> RunningServer:
    """Set up and start `server` and wait until it answers; raises BenchError."""
    if server.setup is not None:
        server.setup()
    if port_open(server.port):
        raise BenchError(f"port {server.port} is already in use: stop what holds it first")
    # Without a database scenario to run, the apps open no pool (apps/common.py).
    db_on = any(SCENARIOS[name].db for name in todo)
    try:
        running = RunningServer(server, tmp / f"{server.name}.log", env={"COVET_BENCH_DB": "1" if db_on else "0"})
    except OSError as exc:
        raise BenchError(f"could not start: {exc}") from exc
    # Ready when a request that needs no database answers (the database's own failures
    # are then each scenario's, not the whole server's).
    first = next((name for name in todo if not SCENARIOS[name].db), todo[0])
    try:
        running.wait_ready(SCENARIOS[first])
    except BaseException:
        running.stop()
        raise
    return running


def bench_server(server: Server, opts: Options, tmp: Path) -> dict[str, object]:
    """Set up, start, measure each scenario, stop. Failures are recorded, not raised."""
    todo, not_run = planned(server, opts)
    record: dict[str, object] = {
        "label": server.label,
        "port": server.port,
        "scenarios": dict(not_run),
    }
    scenarios: dict[str, object] = record["scenarios"]  # type: ignore[assignment]
    if not todo:
        return {**record, "status": "ok"}
    try:
        running = start_server(server, todo, tmp)
    except Unavailable as exc:
        return {**record, "status": "unavailable", "error": str(exc)}
    except BenchError as exc:
        return {**record, "status": "failed", "error": str(exc)}
    try:
        for name in todo:
            log(f"{server.name}: {name}")
            try:
                scenarios[name] = measure_scenario(running, SCENARIOS[name], opts, tmp)
            except BenchError as exc:
                scenarios[name] = {"status": "failed", "error": str(exc)}
                if running.proc.poll() is not None:
                    raise
        record["status"] = "ok"
    except BenchError as exc:
        record["status"] = "failed"
        record["error"] = str(exc)
    finally:
        running.stop()
    return record


# --------------------------------------------------------------------------------------
# --check: the same bytes from every server?
# --------------------------------------------------------------------------------------


def _shape(value: object) -> object:
    """A JSON value with its numbers replaced by their type: random rows compare by shape."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    return type(value).__name__


def _normalised(scenario: Scenario, content_type: str, body: bytes) -> object:
    """The body as compared: parsed JSON (shape only for random rows) or the raw bytes."""
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        return _shape(data) if scenario.compare == "shape" else data
    return body


def compare_answer(scenario: Scenario, ref: tuple[int, str, bytes], got: tuple[int, str, bytes]) -> str:
    """How `got` differs from the reference answer ("same" if it does not)."""
    notes = []
    if got[0] != ref[0]:
        notes.append(f"status {got[0]} (covet {ref[0]})")
    if got[1].replace(" ", "").lower() != ref[1].replace(" ", "").lower():
        notes.append(f"content-type {got[1]!r} (covet {ref[1]!r})")
    if _normalised(scenario, got[1], got[2]) != _normalised(scenario, ref[1], ref[2]):
        shown = got[2][:120].decode(errors="replace")
        notes.append(f"BODY DIFFERS: {shown!r}{'...' if len(got[2]) > 120 else ''} ({len(got[2])} bytes)")
    elif got[2] != ref[2] and scenario.compare == "exact":
        notes.append("body equal after JSON normalisation, bytes differ")
    return "; ".join(notes) or "same"


def check_server(server: Server, opts: Options, tmp: Path) -> dict[str, object]:
    """Start `server` and fetch each scenario once: {scenario: (status, type, body) or error}."""
    todo, not_run = planned(server, opts)
    answers: dict[str, object] = {name: str(rec["status"]) for name, rec in not_run.items()}
    if not todo:
        return answers
    try:
        running = start_server(server, todo, tmp)
    except BenchError as exc:
        return {name: f"server {type(exc).__name__.lower()}: {str(exc).splitlines()[0]}" for name in todo}
    try:
        for name in todo:
            try:
                answers[name] = fetch(server.port, SCENARIOS[name], timeout=10)
            except (OSError, http.client.HTTPException) as exc:
                answers[name] = f"request failed: {exc!r}"
    finally:
        running.stop()
    return answers


def run_check(opts: Options, tmp: Path) -> str:
    """--check: compare every server's answers with covet's; a markdown report."""
    answers = {}
    for name in opts.servers:
        log(f"== check {name}")
        answers[name] = check_server(SERVERS[name], opts, tmp)
    ref_name = SUBJECT if SUBJECT in answers else opts.servers[0]
    lines = [
        f"# Same answers as {ref_name}?",
        "",
        (
            "Each scenario's request sent once. Bodies compared after JSON normalisation "
            "(db, queries, updates: by shape, their values are random); other headers "
            "are not compared."
        ),
        "",
        "| scenario | server | status | content-type | result |",
        "|---|---|---|---|---|",
    ]
    for scenario in opts.scenarios:
        ref = answers[ref_name].get(scenario)
        for name in opts.servers:
            got = answers[name].get(scenario)
            label = SERVERS[name].label
            if not isinstance(got, tuple):
                lines.append(f"| {scenario} | {label} | - | - | {got} |")
                continue
            if name == ref_name or not isinstance(ref, tuple):
                result = "(reference)" if name == ref_name else "no reference"
            else:
                result = compare_answer(SCENARIOS[scenario], ref, got)
            cell = result.replace("|", "\\|")
            lines.append(f"| {scenario} | {label} | {got[0]} | {got[1]} | {cell} |")
    return "\n".join(lines) + "\n"


def machine_info() -> dict[str, object]:
    """What the figures were taken on: absolute numbers mean nothing without it."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        wrk_version = subprocess.run(
            ["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.splitlines()[0]
        wrk_version = wrk_version.split(" Copyright")[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        wrk_version = ""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "wrk": wrk_version.strip(),
        "loadavg": os.getloadavg(),
    }


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------


def _fmt(value: object, digits: int = 1) -> str:
    """Format a number for the tables ('-' when absent)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _cell(record: dict[str, object], scenario: str) -> dict[str, object] | None:
    """The scenario's figures for a server, or None if it has none."""
    data = record.get("scenarios", {}).get(scenario)  # type: ignore[union-attr]
    if data and data.get("status") == "ok":
        return data
    return None


def _suspect(data: dict[str, object]) -> str:
    """Mark figures taken while the server answered errors: they are not comparable."""
    unexpected = data.get("unexpected_status", data["non2xx"])
    return "*" if unexpected or data["socket_errors"] else ""


def _missing(record: dict[str, object], scenario: str) -> str:
    """What a table cell says for a scenario without figures."""
    if record.get("status") == "unavailable":
        return "unavailable"
    data = record.get("scenarios", {}).get(scenario)  # type: ignore[union-attr]
    if data and data.get("status") in ("n/a", "skipped"):
        return str(data["status"])
    return "failed"


def _cpu(record: dict[str, object], scenario: str) -> float | None:
    """CPU µs/req of one server for one scenario, if measured."""
    data = _cell(record, scenario)
    return None if data is None else float(data["cpu_us_per_req"])  # type: ignore[arg-type]


def _lower_than_peers(servers: dict[str, dict[str, object]], scenario: str) -> str:
    """'yes' if covet's CPU µs/req is below every measured peer's, else who is lower."""
    mine = _cpu(servers[SUBJECT], scenario)
    if mine is None:
        return "-"
    peers = {
        record["label"]: cpu
        for name, record in servers.items()
        if name not in (SUBJECT, LIMIT, *VARIANTS) and (cpu := _cpu(record, scenario)) is not None
    }
    if not peers:
        return "-"
    lower = [f"{label} {_fmt(cpu)}" for label, cpu in sorted(peers.items(), key=lambda p: p[1]) if cpu <= mine]
    return "yes" if not lower else "no: " + ", ".join(lower)


def _rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Main table: CPU µs/req per server, the headline ratios, and 'lower than every peer?'."""
    refs = [r for r in REFERENCES if r in servers and SUBJECT in servers]
    header = ["scenario", *(f"{record['label']}" for record in servers.values())]
    header += [f"{SUBJECT}/{servers[r]['label']}" for r in refs]
    if SUBJECT in servers:
        header.append(f"{SUBJECT} lower than every peer?")
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for scenario in scenarios:
        row = [scenario, *_value_cells(servers, scenario, "cpu_us_per_req", 1)]
        subject = _cpu(servers[SUBJECT], scenario) if refs else None
        for ref in refs:
            other = _cpu(servers[ref], scenario)
            row.append("-" if subject is None or not other else f"{subject / other:.2f}x")
        if SUBJECT in servers:
            row.append(_lower_than_peers(servers, scenario))
        yield "| " + " | ".join(row) + " |"


def _rps_rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Requests per second per server (this one depends on the load generator too)."""
    header = ["scenario", *(f"{record['label']}" for record in servers.values())]
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for scenario in scenarios:
        row = [scenario, *_value_cells(servers, scenario, "rps", 0)]
        yield "| " + " | ".join(row) + " |"


def _value_cells(servers: dict[str, dict[str, object]], scenario: str, key: str, digits: int) -> list[str]:
    """One figure per server for a scenario, or why it is missing."""
    cells = []
    for record in servers.values():
        data = _cell(record, scenario)
        cells.append(_missing(record, scenario) if data is None else _fmt(data[key], digits) + _suspect(data))
    return cells


def _detail_rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Third table: latency, errors and memory, one row per scenario and server."""
    yield "| scenario | server | p50 ms | p99 ms | unexpected status | socket errors | peak RSS MiB |"
    yield "|---|---|---|---|---|---|---|"
    for scenario in scenarios:
        for record in servers.values():
            data = _cell(record, scenario)
            if data is None:
                yield f"| {scenario} | {record['label']} | {_missing(record, scenario)} | - | - | - | - |"
                continue
            yield (
                f"| {scenario} | {record['label']} | {_fmt(data['p50_ms'], 2)} | "
                f"{_fmt(data['p99_ms'], 2)} | {data.get('unexpected_status', data['non2xx'])} | "
                f"{data['socket_errors']} | "
                f"{_fmt(data['peak_rss_mib'])} |"
            )


def render_markdown(report: dict[str, object]) -> str:
    """The human-readable report: headline table, rates, detail table, failures."""
    servers: dict[str, dict[str, object]] = report["servers"]  # type: ignore[assignment]
    config: dict[str, object] = report["config"]  # type: ignore[assignment]
    machine: dict[str, object] = report["machine"]  # type: ignore[assignment]
    scenarios: list[str] = config["scenarios"]  # type: ignore[assignment]
    skipped: dict[str, str] = config.get("skipped", {})  # type: ignore[assignment]
    lines = [
        f"# covet benchmark — {report['date']}",
        "",
        (
            f"{machine['nproc']} CPUs ({machine['cpu_model']}), "
            f"Python {machine['python']}, {machine['wrk']}. "
            f"Server on CPU {SERVER_CPU}, wrk on CPU {LOADGEN_CPU}, "
            f"-t1 -c{config['connections']}, warm-up {config['warmup']:g} s, "
            f"measured {config['duration']:g} s."
        ),
        "",
        "## Server CPU µs per request (lower is better)",
        "",
        (
            f"The ratio columns divide {SUBJECT}'s figure by the other server's (below 1 means "
            f"{SUBJECT} is cheaper); the last column compares {SUBJECT} with every peer measured "
            f"(not with {LIMIT}, the limit). Database scenarios count the server's CPU only, "
            "not PostgreSQL's."
        ),
        "",
        *_rows(servers, scenarios),
        "",
        "`*` marks figures taken while the server answered an unexpected status or wrk saw socket errors.",
        "",
        "## Requests per second",
        "",
        *_rps_rows(servers, scenarios),
        "",
        "## Latency, errors, memory",
        "",
        *_detail_rows(servers, scenarios),
    ]
    if skipped:
        lines += ["", "## Skipped scenarios", ""]
        lines += [f"- **{name}**: {why}" for name, why in skipped.items()]
    unavailable = [(n, r) for n, r in servers.items() if r.get("status") == "unavailable"]
    if unavailable:
        lines += ["", "## Unavailable servers", ""]
        lines += [f"- **{name}**: {record.get('error', 'unknown')}" for name, record in unavailable]
    failures = []
    for name, record in servers.items():
        if record.get("status") == "failed":
            failures.append((name, record.get("error", "unknown error")))
        for scenario, data in record.get("scenarios", {}).items():  # type: ignore[union-attr]
            if data.get("status") == "failed":
                failures.append((f"{name}/{scenario}", data.get("error", "unknown error")))
    if failures:
        lines += ["", "## Failures", ""]
        for who, error in failures:
            first, _, rest = str(error).partition("\n")
            lines.append(f"- **{who}**: {first}")
            if rest.strip():
                lines += [
                    "",
                    "  ```",
                    *("  " + ln for ln in rest.splitlines()[-20:]),
                    "  ```",
                ]
    return "\n".join(lines) + "\n"


def draw_chart() -> None:
    """benchmarks/results/latest.png, drawn by plot.py with the peers' venv (matplotlib)."""
    if "matplotlib" in ensure_venv():
        log("no chart: matplotlib did not install into benchmarks/.venv")
        return
    try:
        proc = subprocess.run(
            [venv_bin("python"), str(PLOT), str(RESULTS_DIR / "latest.json"), str(RESULTS_DIR / "latest.png")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"no chart: {exc}")
        return
    if proc.returncode != 0:
        log(f"no chart: plot.py failed:\n{(proc.stdout + proc.stderr).strip()[-2000:]}")
    else:
        log(f"wrote {RESULTS_DIR / 'latest.png'}")


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


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
    parser.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="warm-up 1 s, measured 3 s: for checking, not figures",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if any server or scenario failed")
    parser.add_argument(
        "--check",
        action="store_true",
        help="send each scenario once per server and compare the answers with covet's; no measuring",
    )
    args = parser.parse_args(argv)
    # Whole seconds: wrk's -d takes no fractions.
    duration = args.duration if args.duration is not None else (3 if args.quick else 5)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    if duration < 5 and not args.quick:
        parser.error("--duration below 5 s gives unstable figures; add --quick to allow it")
    if duration < 1 or warmup < 0 or args.connections < 1:
        parser.error("need --duration >= 1, --warmup >= 0 and --connections >= 1")
    return Options(
        servers=list(dict.fromkeys(args.servers)),
        scenarios=list(dict.fromkeys(args.scenarios)),
        duration=duration,
        warmup=warmup,
        connections=args.connections,
        strict=args.strict,
        check=args.check,
    )


def _exit_on_signal(signum: int, _frame: object) -> None:
    """Exit through the normal unwinding path, so no server is left running."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Benchmark each chosen server in turn and write the results."""
    opts = parse_args(argv)
    # Turn SIGTERM into SystemExit so the `finally` blocks stop the server under test.
    signal.signal(signal.SIGTERM, _exit_on_signal)
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
    if opts.check:
        with tempfile.TemporaryDirectory(prefix="covet-bench-") as tmpdir:
            print(run_check(opts, Path(tmpdir)))
        return 0
    report: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "servers": opts.servers,
            "scenarios": opts.scenarios,
            "skipped": opts.skipped,
            "duration": opts.duration,
            "warmup": opts.warmup,
            "connections": opts.connections,
            "server_cpu": SERVER_CPU,
            "loadgen_cpu": LOADGEN_CPU,
        },
        "servers": {},
    }
    servers: dict[str, dict[str, object]] = report["servers"]  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="covet-bench-") as tmpdir:
        for name in opts.servers:
            log(f"== {name}")
            servers[name] = bench_server(SERVERS[name], opts, Path(tmpdir))
            if servers[name]["status"] != "ok":
                error = str(servers[name].get("error", "unknown error")).splitlines()
                detail = f" ... {error[-1]}" if len(error) > 1 else ""
                log(f"{name} {servers[name]['status']}: {error[0]}{detail}")
    markdown = render_markdown(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(markdown)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(markdown)
    log(f"wrote {RESULTS_DIR / 'latest.md'} and {RESULTS_DIR / 'latest.json'}")
    draw_chart()
    any_ok = any(_cell(record, s) is not None for record in servers.values() for s in opts.scenarios)
    any_failed = any(
        record["status"] == "failed" or any(data.get("status") == "failed" for data in record["scenarios"].values())  # type: ignore[union-attr]
        for record in servers.values()
    )
    if not any_ok or (opts.strict and any_failed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
