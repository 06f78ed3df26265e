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
into benchmarks/.venv and the hyper server builds itself with cargo on first use."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
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
VENV_MARKER = VENV_DIR / ".covet-bench-installed.json"
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


class BenchError(Exception):
    """A failure of one server or scenario: reported in the table, never fatal."""


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
    )
}
DEFAULT_SCENARIOS = ("json", "plaintext", "params", "body")


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


def venv_setup(*requirements: str) -> Callable[[], None]:
    """Make a setup step ensuring a peer's `requirements` are in benchmarks/.venv."""

    def setup() -> None:
        ensure_venv(requirements)

    return setup


SERVERS: dict[str, Server] = {
    s.name: s
    for s in (
        Server("covet", "covet", 8101, covet_command),
        Server(
            "fastapi",
            "FastAPI",
            8102,
            uvicorn_command("benchmarks.apps.fastapi_app:app"),
            setup=venv_setup("fastapi", "uvicorn[standard]"),
        ),
        Server("hyper", "hyper", 8103, hyper_command, setup=lambda: build_hyper()),
    )
}
DEFAULT_SERVERS = ("covet", "fastapi", "hyper")


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


def ensure_venv(requirements: tuple[str, ...]) -> None:
    """Create benchmarks/.venv and install whichever `requirements` it lacks.

    A marker file lists what was installed, so adding a peer installs only its new
    packages and an unchanged run does not touch pip at all.
    """
    installed: list[str] = []
    if VENV_MARKER.exists():
        try:
            installed = list(json.loads(VENV_MARKER.read_text()))
        except (ValueError, TypeError):
            installed = []
    missing = [r for r in requirements if r not in installed]
    if not missing and Path(venv_bin("python")).exists():
        return
    if not Path(venv_bin("python")).exists():
        run_logged([sys.executable, "-m", "venv", str(VENV_DIR)], "create venv", 300)
        installed = []
        missing = list(requirements)
    pip = [
        venv_bin("python"),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
    ]
    run_logged([*pip, *missing], "pip install", 900)
    VENV_MARKER.write_text(json.dumps(sorted({*installed, *missing})))


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


def peak_rss_kib(root: int) -> int:
    """VmHWM (peak resident set) summed over the tree, in KiB."""
    total = 0
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmHWM:\s+(\d+)\s+kB", status, re.MULTILINE)
        if match:
            total += int(match.group(1))
    return total


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


def probe(port: int, scenario: Scenario) -> int:
    """Send the scenario's request once and return the status code."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request(
            scenario.method, scenario.path, body=scenario.body_bytes(),
            headers=scenario.request_headers(),
        )  # fmt: skip
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class RunningServer:
    """A server pinned to SERVER_CPU, in its own session so its whole group can die."""

    def __init__(self, server: Server, log_path: Path) -> None:
        """Start the server; its output goes to `log_path` for error reports."""
        self.server = server
        self.log_path = log_path
        self._log = log_path.open("wb")
        cmd = ["taskset", "-c", SERVER_CPU, *server.command(server.port)]
        log(f"start {server.name}: {' '.join(cmd)}")
        self.proc = subprocess.Popen(
            cmd,
            cwd=server.cwd,
            env={**os.environ, **server.env},
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
        """Wait until the port accepts and the first scenario's request answers 200."""
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
                    if status == 200:
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
        "socket_errors": result.socket_errors,
        "peak_rss_mib": peak_rss_kib(running.pid) / 1024,
    }


def bench_server(server: Server, opts: Options, tmp: Path) -> dict[str, object]:
    """Set up, start, measure each scenario, stop. Failures are recorded, not raised."""
    record: dict[str, object] = {
        "label": server.label,
        "port": server.port,
        "scenarios": {},
    }
    scenarios: dict[str, object] = record["scenarios"]  # type: ignore[assignment]
    try:
        if server.setup is not None:
            server.setup()
        if port_open(server.port):
            raise BenchError(f"port {server.port} is already in use: stop what holds it first")
        running = RunningServer(server, tmp / f"{server.name}.log")
    except BenchError as exc:
        return {**record, "status": "failed", "error": str(exc)}
    except OSError as exc:
        return {**record, "status": "failed", "error": f"could not start: {exc}"}
    try:
        running.wait_ready(SCENARIOS[opts.scenarios[0]])
        for name in opts.scenarios:
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
    return "*" if data["non2xx"] or data["socket_errors"] else ""


def _rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Main table: CPU µs/req and req/s per server, then the headline ratios."""
    refs = [r for r in REFERENCES if r in servers and SUBJECT in servers]
    header = ["scenario"]
    for record in servers.values():
        header += [f"{record['label']} CPU µs/req", f"{record['label']} req/s"]
    header += [f"{SUBJECT}/{servers[r]['label']}" for r in refs]
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for scenario in scenarios:
        row = [scenario]
        for record in servers.values():
            data = _cell(record, scenario)
            if data is None:
                row += ["failed", "-"]
            else:
                row += [
                    _fmt(data["cpu_us_per_req"]) + _suspect(data),
                    _fmt(data["rps"], 0),
                ]
        subject = _cell(servers[SUBJECT], scenario) if refs else None
        for ref in refs:
            other = _cell(servers[ref], scenario)
            if subject is None or other is None or not other["cpu_us_per_req"]:
                row.append("-")
            else:
                ratio = subject["cpu_us_per_req"] / other["cpu_us_per_req"]  # type: ignore[operator]
                row.append(f"{ratio:.2f}x")
        yield "| " + " | ".join(row) + " |"


def _detail_rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Second table: latency, errors and memory, one row per scenario and server."""
    yield ("| scenario | server | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MiB |")
    yield "|---|---|---|---|---|---|---|"
    for scenario in scenarios:
        for record in servers.values():
            data = _cell(record, scenario)
            if data is None:
                yield f"| {scenario} | {record['label']} | failed | - | - | - | - |"
                continue
            yield (
                f"| {scenario} | {record['label']} | {_fmt(data['p50_ms'], 2)} | "
                f"{_fmt(data['p99_ms'], 2)} | {data['non2xx']} | "
                f"{data['socket_errors']} | "
                f"{_fmt(data['peak_rss_mib'])} |"
            )


def render_markdown(report: dict[str, object]) -> str:
    """The human-readable report: headline table, detail table, failures."""
    servers: dict[str, dict[str, object]] = report["servers"]  # type: ignore[assignment]
    config: dict[str, object] = report["config"]  # type: ignore[assignment]
    machine: dict[str, object] = report["machine"]  # type: ignore[assignment]
    scenarios: list[str] = config["scenarios"]  # type: ignore[assignment]
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
        (
            "Server CPU µs per request (lower is better) and requests per second; "
            "the ratio columns divide covet's CPU µs/req by the peer's "
            "(below 1 means covet is cheaper)."
        ),
        "",
        *_rows(servers, scenarios),
        "",
        ("`*` marks figures taken while the server answered non-2xx or wrk saw socket errors."),
        "",
        *_detail_rows(servers, scenarios),
    ]
    failures = []
    for name, record in servers.items():
        if record.get("status") != "ok":
            failures.append((name, record.get("error", "unknown error")))
        for scenario, data in record.get("scenarios", {}).items():  # type: ignore[union-attr]
            if data.get("status") != "ok":
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
    report: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "servers": opts.servers,
            "scenarios": opts.scenarios,
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
                log(f"{name} failed: {error[0]}{detail}")
    markdown = render_markdown(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(markdown)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(markdown)
    log(f"wrote {RESULTS_DIR / 'latest.md'} and {RESULTS_DIR / 'latest.json'}")
    any_ok = any(_cell(record, s) is not None for record in servers.values() for s in opts.scenarios)
    any_failed = any(
        record["status"] != "ok" or any(_cell(record, s) is None for s in opts.scenarios) for record in servers.values()
    )
    if not any_ok or (opts.strict and any_failed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
