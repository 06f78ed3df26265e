"""`make bench-ws`: what WebSockets cost on covet, measured on loopback, bounded in count and time.

1. Idle: 15,000 connections (plus 500 to warm up) held by ONE covet worker whose handler waits
   in `await websocket.receive_text()`; server RSS delta / connections.
2. Broadcast: one message to a 10,000-member room (covet.channels, in-process backend), 20
   times; delivery latency (client receive time minus send time, CLOCK_MONOTONIC, one machine)
   and server CPU per delivered message.
3. Echo: round trips per second on 1,000 connections, covet against FastAPI + uvicorn
   (`--ws websockets`), in the same run; and server CPU per round trip.

Servers are pinned to CPU 0, clients to CPU 1 (as benchmarks/run.py). Client connections come
from 127.0.0.2, 127.0.0.3, ... so no source address runs out of ephemeral ports. Pings are off
(`--ws-ping-interval 0`) so that no ping sweep lands inside a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.ws import load
from benchmarks.ws import members as room

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "ws-latest.md"
TICK = os.sysconf("SC_CLK_TCK")
FILES = 20_000  # the hard limit of open files per process on these machines


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if os.cpu_count() and os.cpu_count() > 1 else []  # type: ignore[operator]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(kind: str) -> Server:
    import socket

    port = free_port()
    if kind == "covet":
        cmd = [sys.executable, "-m", "covet", "run", "benchmarks.ws.apps:app", "--port", str(port)]
        cmd += ["--no-access-log", "--log-level", "warning", "--ws-ping-interval", "0"]
        # The default cap is 10,000 connections per worker; the idle phase holds more.
        cmd += ["--max-connections", str(FILES - 500)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "benchmarks.ws.fastapi_app:app", "--port", str(port)]
        cmd += ["--ws", "websockets", "--log-level", "warning", "--no-access-log", "--ws-ping-interval", "0"]
    proc = subprocess.Popen(pin(0) + cmd, cwd=ROOT, preexec_fn=raise_file_limit)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return Server(proc, port)
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} exited with {proc.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError(f"{kind} did not listen")


class Clients:
    """Client processes (pinned to CPU 1), each with its share of connections."""

    def __init__(
        self, port: int, path: str, total: int, processes: int, first_source: int = 2, target: Any = None
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        share = -(-total // processes)
        for i in range(processes):
            count = min(share, total - i * share)
            parent, child = ctx.Pipe()
            args = (child, port, path, count, f"127.0.0.{first_source + i}", target or load.worker)
            proc = ctx.Process(target=_pinned_worker, args=args)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        self.connected = sum(self._recv("connected", 120))

    def _recv(self, what: str, timeout: float) -> list[Any]:
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"clients did not answer {what!r} in {timeout} s")
            kind, value = pipe.recv()
            assert kind == what, (kind, what)
            out.append(value)
        return out

    def ask(self, command: tuple[Any, ...], answer: str, timeout: float = 60) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        return self._recv(answer, timeout)

    def stop(self) -> None:
        self.ask(("stop",), "stopped")
        for proc in self.procs:
            proc.join(10)


def _pinned_worker(pipe: Connection, port: int, path: str, count: int, source: str, target: Any) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    raise_file_limit()
    target(pipe, port, path, count, source)


# --- the three measurements --------------------------------------------------------------------


def idle(connections: int, processes: int) -> dict[str, float]:
    server = start_server("covet")
    try:
        warm = Clients(server.port, "/idle", 500, 1, first_source=2)
        time.sleep(1)
        before = server.rss_kb()
        clients = Clients(server.port, "/idle", connections, processes, first_source=3)
        time.sleep(2)
        after = server.rss_kb()
        held = warm.connected + clients.connected
        clients.stop()
        warm.stop()
    finally:
        server.stop()
    per_conn = (after - before) * 1024 / clients.connected
    return {"held": held, "base_mb": before / 1024, "per_conn_b": per_conn, "rss_mb": after / 1024}


def broadcast(members: int, processes: int, rounds: int) -> dict[str, float]:
    server = start_server("covet")
    try:
        clients = Clients(server.port, "/room", members, processes, target=room.worker)
        time.sleep(1)
        cpu0 = server.cpu_s()
        answers = asyncio.run(load.control_broadcasts(server.port, rounds, 0.3))
        time.sleep(1)
        cpu1 = server.cpu_s()
        latencies = [x for part in clients.ask(("latencies",), "latencies") for x in part]
        clients.stop()
    finally:
        server.stop()
    latencies.sort()
    delivered = len(latencies)
    return {
        "members": clients.connected,
        "rounds": rounds,
        "delivered": delivered,
        "expected": rounds * clients.connected,
        "p50_ms": latencies[delivered // 2] * 1e3,
        "p99_ms": latencies[int(delivered * 0.99)] * 1e3,
        "max_ms": latencies[-1] * 1e3,
        "send_ms": statistics.median(a[0] for a in answers) * 1e3,
        "cpu_us_per_msg": (cpu1 - cpu0) * 1e6 / max(delivered, 1),
    }


def kernel_floor(members: int, processes: int, rounds: int) -> dict[str, float]:
    """The same broadcast from a bare sender (`members.floor_server`): the kernel's part."""
    ctx = multiprocessing.get_context("spawn")
    pipe, child = ctx.Pipe()
    proc = ctx.Process(target=room.floor_server, args=(child, rounds, 0.3))
    proc.start()
    try:
        _, port = pipe.recv()
        pipe.send(("expect", members))
        clients = Clients(port, "/room", members, processes, target=room.worker)
        pipe.recv()  # ready
        pipe.send(("go",))
        if not pipe.poll(rounds * 0.3 + 120):
            raise TimeoutError("the bare sender did not finish")
        _, result = pipe.recv()
        time.sleep(1)
        latencies = sorted(x for part in clients.ask(("latencies",), "latencies") for x in part)
        clients.stop()
        pipe.send(("done",))
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    n = len(latencies)
    return dict(result, delivered=n, p50_ms=latencies[n // 2] * 1e3, p99_ms=latencies[int(n * 0.99)] * 1e3)


def echo(kind: str, connections: int, processes: int, warm: float, seconds: float) -> dict[str, float]:
    server = start_server(kind)
    try:
        clients = Clients(server.port, "/echo", connections, processes)
        for pipe in clients.pipes:
            pipe.send(("echo", warm, seconds))
        time.sleep(warm)
        cpu0 = server.cpu_s()
        time.sleep(seconds)
        cpu1 = server.cpu_s()
        trips = sum(clients._recv("echoes", seconds + 30))
        clients.stop()
    finally:
        server.stop()
    return {"rps": trips / seconds, "cpu_us": (cpu1 - cpu0) * 1e6 / max(trips, 1), "connections": clients.connected}


# --- the table ---------------------------------------------------------------------------------


def table(i: dict[str, float], b: dict[str, float], f0: dict[str, float], e: dict[str, dict[str, float]]) -> str:
    per_kb = i["per_conn_b"] / 1024
    projected = i["base_mb"] + per_kb * 100_000 / 1024
    c, f = e["covet"], e["fastapi"]
    rows = [
        "# WebSockets: `make bench-ws`",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()}, {os.cpu_count()} CPUs · Python "
        f"{platform.python_version()} · server pinned to CPU 0, clients to CPU 1",
        "",
        "| measure | covet | FastAPI + uvicorn |",
        "|---|---|---|",
        f"| idle connections held by one worker | {i['held']:,.0f} | |",
        f"| server RSS per idle connection (handler waiting in `receive_text()`) | {per_kb:.1f} KB | |",
        f"| server RSS: at start / with all connections | {i['base_mb']:.0f} MB / {i['rss_mb']:.0f} MB | |",
        f"| projected RSS for 100,000 idle connections in one process | {projected:,.0f} MB | |",
        f"| broadcast to a {b['members']:,.0f}-member room: delivered | {b['delivered']:,.0f} of "
        f"{b['expected']:,.0f} ({b['rounds']:.0f} messages) | |",
        f"| broadcast delivery latency p50 / p99 / max | {b['p50_ms']:.1f} / {b['p99_ms']:.1f} / "
        f"{b['max_ms']:.1f} ms | |",
        f"| server time to hand one message to every member (median `send`) | {b['send_ms']:.2f} ms | |",
        f"| server CPU per delivered message | {b['cpu_us_per_msg']:.2f} µs | |",
        f"| kernel floor, a bare sender (one `send()` per member): latency p50 / p99 | "
        f"{f0['p50_ms']:.1f} / {f0['p99_ms']:.1f} ms | |",
        f"| kernel floor: CPU per `send()` | {f0['user_us'] + f0['sys_us']:.2f} µs | |",
        f"| echo round trips/s, {c['connections']:,.0f} connections | {c['rps']:,.0f} | {f['rps']:,.0f} |",
        f"| server CPU per echo round trip | {c['cpu_us']:.1f} µs | {f['cpu_us']:.1f} µs |",
        "",
        "Broadcast latency is the kernel's arrival stamp on each member's socket (`SO_TIMESTAMPNS`) "
        "minus the send time stamped in the message (one CLOCK_REALTIME): when the frame reached "
        "the member, whatever pace the clients read at. The kernel floor is a bare server pinned "
        "like covet's whose broadcast is one `send()` of a ready frame per member, read by the "
        "same clients: loopback runs the receiving TCP stack and the reader's wake-up in the "
        "sender's context, and no server can deliver for less. Round trips/s depend on the "
        "client as much as on the server; server CPU per round trip does not.",
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=15_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--echo-connections", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=6, help="client processes for the idle phase")
    parser.add_argument("--broadcast-only", action="store_true", help="the broadcast rows alone, printed")
    parser.add_argument("--idle-only", action="store_true", help="the idle rows alone, printed")
    args = parser.parse_args()
    if args.idle_only:
        print(idle(args.idle, args.processes), flush=True)
        return
    if args.broadcast_only:
        print(broadcast(args.members, 4, 20), kernel_floor(args.members, 4, 20), flush=True)
        return
    if args.idle + 600 > FILES:
        parser.error(f"one process may hold at most {FILES} open files")
    print(f"idle: {args.idle} connections ...", flush=True)
    i = idle(args.idle, args.processes)
    print(f"broadcast: {args.members} members ...", flush=True)
    b = broadcast(args.members, 4, 20)
    f0 = kernel_floor(args.members, 4, 20)
    e = {}
    for kind in ("covet", "fastapi"):
        print(f"echo: {kind}, {args.echo_connections} connections ...", flush=True)
        try:
            e[kind] = echo(kind, args.echo_connections, 2, 1.0, args.seconds)
        except (RuntimeError, TimeoutError) as exc:  # keep the other rows of a run on a loaded machine
            print(f"echo: {kind} failed: {exc}", flush=True)
            e[kind] = {"rps": float("nan"), "cpu_us": float("nan"), "connections": 0}
    out = table(i, b, f0, e)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(out)
    print(out)


if __name__ == "__main__":
    main()
