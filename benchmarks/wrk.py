"""Driving wrk: the Lua script a scenario needs, one pinned run, and parsing its report."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import HOST, LOADGEN_CPU, BenchError
from benchmarks.scenarios import Scenario


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
