"""The measured run: for each server, set it up, start it, warm up and measure each scenario
(wrk's figures plus the server's CPU ticks around the measured run), and stop it.

A failure is recorded in the server's record and the run goes on with the next one."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import LOADGEN_CPU, SERVER_CPU, BenchError, Unavailable, log
from benchmarks.lifecycle import RunningServer, port_open
from benchmarks.procfs import cpu_ticks, peak_rss_kib
from benchmarks.report import machine_info
from benchmarks.scenarios import SCENARIOS, Scenario
from benchmarks.servers import SERVERS, Server
from benchmarks.wrk import parse_wrk, run_wrk, wrk_script


@dataclass
class Options:
    """Validated command-line options."""

    servers: list[str]
    scenarios: list[str]
    duration: int
    warmup: int
    runs: int
    connections: int
    strict: bool
    check: bool = False
    # The results' file name under benchmarks/results/.
    results: str = "latest"
    # Scenarios chosen but not run, with the reason (PostgreSQL not reachable).
    skipped: dict[str, str] = field(default_factory=dict)


def measure_scenario(running: RunningServer, scenario: Scenario, opts: Options, tmp: Path) -> dict[str, object]:
    """Warm up, then take `opts.runs` measured runs back to back; the record is the run with
    the median CPU µs/request (a neighbour's burst on this shared machine inflates one run, not
    the figure), with every run's CPU figure kept beside it."""
    script = wrk_script(scenario, tmp)
    if opts.warmup > 0:
        run_wrk(running.server.port, scenario, script, opts.warmup, opts.connections)
    runs = [measured_run(running, scenario, script, opts) for _ in range(opts.runs)]
    runs.sort(key=lambda run: float(run["cpu_us_per_req"]))  # type: ignore[arg-type]
    median = dict(runs[(len(runs) - 1) // 2])
    median["cpu_us_runs"] = [run["cpu_us_per_req"] for run in runs]
    return median


def measured_run(running: RunningServer, scenario: Scenario, script: Path | None, opts: Options) -> dict[str, object]:
    """One measured wrk run and the server's CPU ticks around it."""
    port = running.server.port
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


def server_env(db_on: bool) -> dict[str, str]:
    """What every server gets added to its environment. Loopback PostgreSQL without TLS, as in
    TechEmpower's setup: libpq's default (`prefer`) would encrypt each query's few hundred bytes
    for every peer alike, measuring OpenSSL rather than the framework. PGSSLMODE already set wins."""
    return {"COVET_BENCH_DB": "1" if db_on else "0", "PGSSLMODE": os.environ.get("PGSSLMODE", "disable")}


def start_server(server: Server, todo: list[str], tmp: Path) -> RunningServer:
    """Set up and start `server` and wait until it answers; raises BenchError."""
    if server.setup is not None:
        server.setup()
    if port_open(server.port):
        raise BenchError(f"port {server.port} is already in use: stop what holds it first")
    # Without a database scenario to run, the apps open no pool (apps/common.py).
    db_on = any(SCENARIOS[name].db for name in todo)
    try:
        running = RunningServer(server, tmp / f"{server.name}.log", env=server_env(db_on))
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


def run_bench(opts: Options, tmp: Path) -> dict[str, object]:
    """Benchmark each chosen server in turn: the report that latest.json holds."""
    report: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "servers": opts.servers,
            "scenarios": opts.scenarios,
            "skipped": opts.skipped,
            "duration": opts.duration,
            "warmup": opts.warmup,
            "runs": opts.runs,
            "connections": opts.connections,
            "server_cpu": SERVER_CPU,
            "loadgen_cpu": LOADGEN_CPU,
        },
        "servers": {},
    }
    servers: dict[str, dict[str, object]] = report["servers"]  # type: ignore[assignment]
    for name in opts.servers:
        log(f"== {name}")
        servers[name] = bench_server(SERVERS[name], opts, tmp)
        if servers[name]["status"] != "ok":
            error = str(servers[name].get("error", "unknown error")).splitlines()
            detail = f" ... {error[-1]}" if len(error) > 1 else ""
            log(f"{name} {servers[name]['status']}: {error[0]}{detail}")
    return report
