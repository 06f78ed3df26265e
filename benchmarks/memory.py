#!/usr/bin/env python3
"""Memory check: does the hello app's resident memory stay flat under load, and below FastAPI's?

Run from the repository root:  python3 benchmarks/memory.py  (or `make bench-memory`).

Each server (covet's own server running examples/hello/app.py, one worker; FastAPI + uvicorn
running the same app, benchmarks/apps/fastapi_hello.py) is started fresh for each of two legs:

- keep-alive: 1,000,000 requests over 64 persistent connections;
- close: 100,000 requests with `Connection: close`, a new connection per request, to catch
  what a server keeps per connection.

wrk drives a mix of the hello app's routes (a Lua script rotates through JSON, path and query
parameters, plain text, a streamed body, an HTTPException 404, an unknown route and a POST with
a JSON body to a GET-only route). The script counts responses and stops wrk once its budget is
reached, so each checkpoint is wrk's own count of completed responses, exact (the server may
have read up to one more request per connection, at most 64, before wrk stopped). After each
checkpoint the server's VmRSS is read from /proc/PID/status (summed over its process tree).

Pass: covet's RSS after the last checkpoint is within 5% of its RSS after the first (10,000
requests), and at most FastAPI's at the same point. Results go to
benchmarks/results/memory-latest.md (printed too) and memory-latest.json; the exit code is 1
when a check fails.

Server and wrk placement, server start and stop, wrk parsing and /proc readings are the
benchmark suite's (benchmarks/harness.py, lifecycle.py, wrk.py, procfs.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (  # noqa: E402
    HOST,
    LOADGEN_CPU,
    RESULTS_DIR,
    SERVER_CPU,
    BenchError,
    Unavailable,
    exit_on_signal,
    log,
)
from benchmarks.lifecycle import RunningServer, port_open  # noqa: E402
from benchmarks.procfs import status_kib  # noqa: E402
from benchmarks.report import machine_info  # noqa: E402
from benchmarks.scenarios import Scenario  # noqa: E402
from benchmarks.servers import Server, peer_setup, uvicorn_command  # noqa: E402
from benchmarks.wrk import lua_string, parse_wrk, run_wrk  # noqa: E402

RESULTS_MD = RESULTS_DIR / "memory-latest.md"
RESULTS_JSON = RESULTS_DIR / "memory-latest.json"
MAX_GROWTH = 0.05  # allowed RSS growth from the first checkpoint to the last
SETTLE_S = 1.0  # after wrk exits, let the server close its connections before reading RSS
SUBJECT, PEER = "covet", "fastapi"


@dataclass(frozen=True)
class Route:
    """One request of the mix and the status both apps answer it with."""

    method: str
    path: str
    status: int
    body: bytes | None = None


ROUTES = (
    Route("GET", "/", 200),  # JSON
    Route("GET", "/users/1?q=memory", 200),  # path + query parameters
    Route("GET", "/users/2", 200),  # query parameter absent
    Route("GET", "/users/999?q=x", 404),  # HTTPException raised by the handler
    Route("GET", "/hello/covet", 200),  # plain text
    Route("GET", "/count?n=5", 200),  # streamed body
    Route("GET", "/no/such/route", 404),  # no route
    Route("POST", "/hello/covet", 405, b'{"name":"covet","tags":["a","b"]}'),  # a body, wrong method
)


@dataclass(frozen=True)
class Leg:
    """One fresh server run: requests up to each checkpoint, RSS read at each."""

    name: str
    close: bool
    checkpoints: tuple[int, ...]


def covet_hello_command(port: int) -> list[str]:
    """`python -m covet run` on examples/hello, one worker, on covet's own interpreter."""
    return [
        sys.executable, "-m", "covet", "run", "examples.hello.app:app",
        "--host", HOST,
        "--port", str(port),
        "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip


SERVERS = {
    SUBJECT: Server("covet", "covet", 8111, covet_hello_command),
    PEER: Server(
        "fastapi",
        "FastAPI",
        8112,
        uvicorn_command("benchmarks.apps.fastapi_hello:app"),
        setup=peer_setup("fastapi", "uvicorn"),
    ),
}


def mix_script(budget: int, close: bool, directory: Path) -> Path:
    """A wrk script rotating through ROUTES that stops after `budget` responses (wrk -t1).

    It also prints how many responses had each status, so the run can be checked."""
    rows = []
    for route in ROUTES:
        headers = {}
        if route.body is not None:
            headers["Content-Type"] = "application/json"
        if close:
            headers["Connection"] = "close"
        table = ", ".join(f"[{lua_string(k.encode())}] = {lua_string(v.encode())}" for k, v in headers.items())
        body = "nil" if route.body is None else lua_string(route.body)
        method, target = lua_string(route.method.encode()), lua_string(route.path.encode())
        rows.append(f"    wrk.format({method}, {target}, {{{table}}}, {body}),")
    script = "\n".join(
        [
            "-- Written by benchmarks/memory.py.",
            f"local budget = {budget}",
            "local requests, n, answered, threads = {}, 0, 0, {}",
            "statuses = {}",
            "local ok, ffi = pcall(require, 'ffi')",
            "if ok then ffi.cdef('int getpid(void); int tgkill(int tgid, int tid, int sig);') else ffi = nil end",
            "function setup(thread) table.insert(threads, thread) end",
            "function init(args)",
            "  requests = {",
            *rows,
            "  }",
            "end",
            "function request()",
            "  n = n % #requests + 1",
            "  return requests[n]",
            "end",
            "function response(status, headers, body)",
            "  statuses[status] = (statuses[status] or 0) + 1",
            "  answered = answered + 1",
            "  if answered >= budget then",
            "    wrk.thread:stop()",
            "    -- wrk's main thread sleeps for -d regardless; a SIGINT to it ends the run now.",
            "    if ffi then ffi.C.tgkill(ffi.C.getpid(), ffi.C.getpid(), 2) end",
            "  end",
            "end",
            "function done(summary, latency, reqs)",
            "  for _, thread in ipairs(threads) do",
            "    for status, count in pairs(thread:get('statuses')) do",
            "      io.write(string.format('memory-check status %d %d\\n', status, count))",
            "    end",
            "  end",
            "end",
        ]
    )
    path = directory / f"mix-{budget}-{'close' if close else 'keepalive'}.lua"
    path.write_text(script + "\n")
    return path


def parse_statuses(output: str) -> dict[str, int]:
    """The per-status counts the script printed."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        if line.startswith("memory-check status "):
            _, _, status, count = line.split()
            counts[status] = counts.get(status, 0) + int(count)
    return counts


def check_routes(port: int) -> None:
    """Send each route once: a server answering something else would measure another thing."""
    for route in ROUTES:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if route.body else {}
            conn.request(route.method, route.path, body=route.body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{route.method} {route.path} failed: {exc!r}") from exc
        finally:
            conn.close()
        if response.status != route.status:
            raise BenchError(f"{route.method} {route.path} answered {response.status}, expected {route.status}")


def memory_sample(pid: int, requests: int) -> dict[str, object]:
    """RSS and its parts after `requests` completed requests, in KiB."""
    return {
        "requests": requests,
        "rss_kib": status_kib(pid, "VmRSS"),
        "rss_anon_kib": status_kib(pid, "RssAnon"),
        "rss_file_kib": status_kib(pid, "RssFile"),
        "hwm_kib": status_kib(pid, "VmHWM"),
    }


def drive(running: RunningServer, leg: Leg, connections: int, tmp: Path) -> dict[str, object]:
    """Run wrk up to each checkpoint and read RSS at each; the leg's record."""
    port = running.server.port
    check_routes(port)
    samples = [memory_sample(running.pid, 0)]
    statuses: dict[str, int] = {}
    total, socket_errors, busy_s = 0, 0, 0.0
    target = Scenario("mix", "GET", "/")  # wrk's URL; the script sets each request
    for checkpoint in leg.checkpoints:
        budget = checkpoint - total
        if budget > 0:
            script = mix_script(budget, leg.close, tmp)
            # A time cap only: the script stops wrk at the budget long before (> 1,000 req/s).
            cap = max(60, budget // 1000)
            output = run_wrk(port, target, script, cap, connections)
            result = parse_wrk(output)
            total += result.requests
            socket_errors += result.socket_errors
            busy_s += result.seconds
            for status, count in parse_statuses(output).items():
                statuses[status] = statuses.get(status, 0) + count
            running.check_alive()
        time.sleep(SETTLE_S)
        samples.append(memory_sample(running.pid, total))
        log(f"{running.server.name} {leg.name}: {total:,} requests, VmRSS {samples[-1]['rss_kib']:,} KiB")
    return {
        "status": "ok",
        "requests": total,
        "seconds": busy_s,
        "rps": total / busy_s if busy_s else None,
        "statuses": statuses,
        "socket_errors": socket_errors,
        "samples": samples,
        **growth(samples),
    }


def growth(samples: list[dict[str, object]]) -> dict[str, object]:
    """RSS growth from the first checkpoint (not the idle start) to the last."""
    first, last = samples[1], samples[-1]
    base = int(first["rss_kib"])  # type: ignore[call-overload]
    grown = int(last["rss_kib"]) - base  # type: ignore[call-overload]
    return {"growth_pct": 100.0 * grown / base if base else None, "growth_kib": grown}


def run_leg(server: Server, leg: Leg, connections: int, tmp: Path) -> dict[str, object]:
    """Start `server` fresh, drive one leg, stop it. Failures are recorded, not raised."""
    try:
        if server.setup is not None:
            server.setup()
        if port_open(server.port):
            raise BenchError(f"port {server.port} is already in use: stop what holds it first")
        running = RunningServer(server, tmp / f"{server.name}-{leg.name}.log")
    except Unavailable as exc:
        return {"status": "unavailable", "error": str(exc)}
    except (BenchError, OSError) as exc:
        return {"status": "failed", "error": str(exc)}
    try:
        running.wait_ready(Scenario("root", "GET", "/"))
        return drive(running, leg, connections, tmp)
    except BenchError as exc:
        return {"status": "failed", "error": str(exc)}
    finally:
        running.stop()


# --------------------------------------------------------------------------------------
# Verdicts and report
# --------------------------------------------------------------------------------------


def _mib(kib: object) -> str:
    return "-" if kib is None else f"{int(kib) / 1024:,.1f}"  # type: ignore[call-overload]


def _last_rss(record: dict[str, object] | None) -> int | None:
    """RSS at the leg's last checkpoint, if the leg ran."""
    if not record or record.get("status") != "ok":
        return None
    return int(record["samples"][-1]["rss_kib"])  # type: ignore[index]


def verdicts(report: dict[str, object]) -> list[dict[str, object]]:
    """The pass/fail lines: covet's growth within MAX_GROWTH, covet's RSS at most FastAPI's."""
    legs: dict[str, dict[str, dict[str, object]]] = report["legs"]  # type: ignore[assignment]
    out = []
    for leg_name, records in legs.items():
        mine, peer = records.get(SUBJECT), records.get(PEER)
        planned: list[int] = report["config"]["legs"][leg_name]["checkpoints"]  # type: ignore[index]
        first, last = planned[0], planned[-1]
        if mine is not None:
            if mine.get("status") != "ok":
                out.append({"check": f"{leg_name}: covet ran", "pass": False, "detail": mine.get("error", "")})
            else:
                pct = mine["growth_pct"]
                ok = pct is not None and pct <= MAX_GROWTH * 100  # type: ignore[operator]
                out.append(
                    {
                        "check": f"{leg_name}: covet RSS growth {first:,} → {last:,} requests ≤ {MAX_GROWTH:.0%}",
                        "pass": ok,
                        "detail": f"{pct:+.2f}% ({int(mine['growth_kib']):+,} KiB)",  # type: ignore[call-overload]
                    }
                )
        if mine is not None and peer is not None:
            a, b = _last_rss(mine), _last_rss(peer)
            check = f"{leg_name}: covet RSS ≤ FastAPI's after {last:,} requests"
            if a is None or b is None:
                out.append({"check": check, "pass": None, "detail": "not measured (a server did not run)"})
            else:
                out.append({"check": check, "pass": a <= b, "detail": f"{_mib(a)} MiB vs {_mib(b)} MiB"})
    return out


def _leg_rows(leg: str, records: dict[str, dict[str, object]], checkpoints: list[int]) -> Iterator[str]:
    """One row per server: RSS at each checkpoint, growth, peak, statuses."""
    header = [
        "server",
        "start",
        *(f"{c:,}" for c in checkpoints),
        "growth",
        "peak (VmHWM)",
        "req/s",
        "statuses",
        "socket errors",
    ]
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for name, record in records.items():
        label = SERVERS[name].label
        if record.get("status") != "ok":
            error = str(record.get("error", "unknown")).splitlines()
            first = (error[0] + (f" … {error[-1]}" if len(error) > 1 else "")).replace("|", "\\|")
            yield f"| {label} | {record['status']}: {first} |" + " |" * (len(header) - 2)
            continue
        samples: list[dict[str, object]] = record["samples"]  # type: ignore[assignment]
        counts = ", ".join(f"{s}: {c:,}" for s, c in sorted(record["statuses"].items()))  # type: ignore[union-attr]
        cells = [
            label,
            *(_mib(s["rss_kib"]) for s in samples),
            f"{record['growth_pct']:+.2f}%",
            _mib(samples[-1]["hwm_kib"]),
            f"{record['rps']:,.0f}",
            counts,
            str(record["socket_errors"]),
        ]
        yield "| " + " | ".join(cells) + " |"
        exact = [f"{int(s['requests']):,}" for s in samples]  # type: ignore[call-overload]
        yield "| ↳ requests (exact) | " + " | ".join(exact) + " |" + " |" * (len(header) - len(exact) - 1)


def render_markdown(report: dict[str, object]) -> str:
    """Verdicts first, then the RSS curve of each leg."""
    machine: dict[str, object] = report["machine"]  # type: ignore[assignment]
    config: dict[str, object] = report["config"]  # type: ignore[assignment]
    mark = {True: "pass", False: "**FAIL**", None: "n/a"}
    lines = [
        f"# covet memory check — {report['date']}",
        "",
        (
            f"{machine['nproc']} CPUs ({machine['cpu_model']}), Python {machine['python']}, {machine['wrk']}. "
            f"Server on CPU {SERVER_CPU} (one worker, fresh for each leg), wrk -t1 -c{config['connections']} "
            f"on CPU {LOADGEN_CPU}, rotating through {len(ROUTES)} requests of the hello app: "
            + ", ".join(f"`{r.method} {r.path}` ({r.status})" for r in ROUTES)
            + ". RSS is VmRSS from /proc/PID/status in MiB, read 1 s after wrk stops at each checkpoint; "
            "request counts are wrk's completed responses."
        ),
        "",
        "| check | result | detail |",
        "|---|---|---|",
        *(f"| {v['check']} | {mark[v['pass']]} | {v['detail']} |" for v in report["verdicts"]),  # type: ignore[attr-defined, index]
    ]
    legs: dict[str, dict[str, dict[str, object]]] = report["legs"]  # type: ignore[assignment]
    for leg, records in legs.items():
        spec = config["legs"][leg]  # type: ignore[index]
        how = "new connection per request (`Connection: close`)" if spec["close"] else "keep-alive"
        lines += ["", f"## {leg}: RSS (MiB) after N requests, {how}", "", *_leg_rows(leg, records, spec["checkpoints"])]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=f"{SUBJECT},{PEER}", help="comma-separated: covet, fastapi")
    parser.add_argument("--requests", type=int, default=1_000_000, help="keep-alive leg total (default 1,000,000)")
    parser.add_argument(
        "--close-requests", type=int, default=100_000, help="Connection: close leg total (default 100,000)"
    )
    parser.add_argument(
        "--baseline", type=int, default=10_000, help="first checkpoint, the growth baseline (default 10,000)"
    )
    parser.add_argument("--connections", type=int, default=64, help="wrk -c for the keep-alive leg (default 64)")
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in args.servers if s not in SERVERS]
    if unknown or not args.servers:
        parser.error(f"unknown server(s) {unknown}; known: {', '.join(SERVERS)}")
    if not 0 < args.baseline < min(args.requests, args.close_requests):
        parser.error("need 0 < --baseline < --requests and --close-requests")
    return args


def checkpoints(baseline: int, total: int) -> tuple[int, ...]:
    """The baseline, then a few points on the way to `total` to show the curve's shape."""
    points = {baseline, total, *(total * f // 10 for f in (1, 2, 5))}
    return tuple(sorted(p for p in points if baseline <= p <= total))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found (apt-get install -y {tool})", file=sys.stderr)
            return 2
    legs = {
        "keep-alive": Leg("keep-alive", False, checkpoints(args.baseline, args.requests)),
        "close": Leg("close", True, (args.baseline, args.close_requests)),
    }
    report: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "servers": args.servers,
            "connections": args.connections,
            "max_growth": MAX_GROWTH,
            "routes": [{"method": r.method, "path": r.path, "status": r.status} for r in ROUTES],
            "legs": {n: {"close": leg.close, "checkpoints": list(leg.checkpoints)} for n, leg in legs.items()},
        },
        "legs": {},
    }
    with tempfile.TemporaryDirectory(prefix="covet-memory-") as tmpdir:
        for leg in legs.values():
            records: dict[str, dict[str, object]] = {}
            report["legs"][leg.name] = records  # type: ignore[index]
            for name in args.servers:
                log(f"== {name}: {leg.name}")
                records[name] = run_leg(SERVERS[name], leg, args.connections, Path(tmpdir))
    report["verdicts"] = verdicts(report)
    markdown = render_markdown(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_MD.write_text(markdown)
    RESULTS_JSON.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown)
    log(f"wrote {RESULTS_MD} and {RESULTS_JSON}")
    failed_runs = [
        f"{name} {leg}: {record.get('error', '')}"
        for leg, records in report["legs"].items()  # type: ignore[attr-defined]
        for name, record in records.items()
        if record.get("status") == "failed"
    ]
    for failure in failed_runs:
        log(f"failed: {failure}")
    return 1 if failed_runs or any(v["pass"] is False for v in report["verdicts"]) else 0  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
