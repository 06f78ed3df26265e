"""`make bench-cache`: what a cache hit costs on covet against FastAPI with fastapi-cache2,
and the hit rate of a two-level cache on a Zipf workload, in one run.

1. Server CPU µs per request (as benchmarks/run.py: server pinned to CPU 0, `wrk -t1 -c64`
   pinned to CPU 1, a 2 s warm-up, three 5 s runs, the median reported) for a cached endpoint
   whose value is held in memory, then in Redis (every hit a Redis round trip), covet's
   `covet.cache` against fastapi-cache2's in-memory and Redis backends. Then the whole
   response cached (`CachePolicy`, a hit written by the engine) against the hyper limit
   answering the same bytes (benchmarks/hyper-limit, `/cached`) and fastapi-cache2 in memory.
   `--repeat N` measures every server N times, interleaved, and reports the median.
2. Hit rate on a Zipf (s = 1.0) trace over 100,000 keys: the engine's memory cache alone
   (10,000 entries) under S3-FIFO and under plain LRU; then a `Cache` of that memory level in
   front of Redis, driven through `get_or_set` with 64 concurrent callers, each level's share.

The results go to benchmarks/results/cache-latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.harness import HYPER_BIN
from benchmarks.procfs import cpu_ticks

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv"
RESULTS = ROOT / "benchmarks" / "results" / "cache-latest.md"
TICK = os.sysconf("SC_CLK_TCK")


def pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) > 1 else []


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peer_python() -> Path:
    """benchmarks/cache/.venv with FastAPI and fastapi-cache2, made when missing."""
    python = PEERS / "bin" / "python"
    stamp = PEERS / ".installed"
    wanted = (HERE / "requirements-peers.txt").read_text()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(HERE / "requirements-peers.txt")], check=True
        )
        stamp.write_text(wanted)
    return python


def start(kind: str, level: str, port: int, ns: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COVET_BENCH_LEVEL": level, "COVET_BENCH_NS": ns, "PYTHONPATH": str(ROOT)}
    if kind == "hyper":
        cmd = [str(HYPER_BIN), str(port)]
    elif kind == "covet":
        cmd = [sys.executable, "-m", "covet", "run", "benchmarks.cache.apps:covet", "--port", str(port)]
        cmd += ["--log-level", "warning", "--no-access-log"]  # off for every server, as in `make bench`
    else:
        cmd = [str(peer_python()), "-m", "uvicorn", "benchmarks.cache.apps:fastapi", "--port", str(port)]
        cmd += ["--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", "httptools"]
    proc = subprocess.Popen([*pin(0), *cmd], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/cached", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} ({level}) did not answer: {proc.stderr.read().decode() if proc.stderr else ''}")


def wrk(port: int, seconds: int) -> int:
    cmd = [*pin(1), "wrk", "-t1", "-c64", f"-d{seconds}s", f"http://127.0.0.1:{port}/cached"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    requests = int(next(line for line in out.splitlines() if "requests in" in line).split()[0])
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return requests


def cpu_per_request(kind: str, level: str, seconds: int) -> tuple[float, float]:
    """(median CPU µs/request, requests/s of that run)."""
    port = free_port()
    proc = start(kind, level, port, f"bench-cache-{uuid.uuid4().hex[:8]}")
    try:
        wrk(port, 2)
        runs = []
        for _ in range(3):
            before = cpu_ticks(proc.pid)
            requests = wrk(port, seconds)
            used = (cpu_ticks(proc.pid) - before) / TICK
            runs.append((used * 1e6 / requests, requests / seconds))
        runs.sort()
        return runs[1]
    finally:
        proc.terminate()
        proc.wait(10)


def http_tables(seconds: int, repeat: int) -> list[str]:
    """The two tables of part 1, each figure the median of `repeat` interleaved measurements."""
    import statistics

    from benchmarks.provision import build_hyper

    build_hyper()
    servers = [("covet", "memory"), ("fastapi", "memory"), ("covet", "redis"), ("fastapi", "redis")]
    servers += [("covet", "response"), ("hyper", "response")]
    seen: dict[tuple[str, str], list[tuple[float, float]]] = {s: [] for s in servers}
    for _ in range(repeat):
        for server in servers:
            seen[server].append(cpu_per_request(*server, seconds))
            print(server, f"{seen[server][-1][0]:.1f} µs", flush=True)
    fig = {s: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for s, v in seen.items()}

    def cell(server: tuple[str, str]) -> str:
        return f"{fig[server][0]:.1f} µs ({fig[server][1]:,.0f} req/s)"

    lines = [f"## Server CPU µs per request for a cache hit (median of {repeat} x 3 runs)", ""]
    lines += [
        "| value held in | covet (covet.cache) | FastAPI + fastapi-cache2 | covet / FastAPI |",
        "|---|---|---|---|",
    ]
    for level in ("memory", "redis"):
        ours, theirs = fig[("covet", level)][0], fig[("fastapi", level)][0]
        lines.append(f"| {level} | {cell(('covet', level))} | {cell(('fastapi', level))} | {ours / theirs:.2f} |")
    ours, hyper, theirs = fig[("covet", "response")][0], fig[("hyper", "response")][0], fig[("fastapi", "memory")][0]
    lines += [
        "",
        "| whole response cached | covet (`CachePolicy`, engine hit) | hyper limit, same bytes "
        "| FastAPI + fastapi-cache2 (memory) | covet / hyper | covet / FastAPI |",
        "|---|---|---|---|---|---|",
        f"| memory level | {cell(('covet', 'response'))} | {cell(('hyper', 'response'))} "
        f"| {cell(('fastapi', 'memory'))} | {ours / hyper:.2f} | {ours / theirs:.3f} |",
        "",
    ]
    return lines


def zipf_trace(n: int, count: int, seed: int = 42) -> list[int]:
    weights = [1.0 / rank for rank in range(1, n + 1)]
    return random.Random(seed).choices(range(n), weights=weights, k=count)


def memory_only(trace: list[int], policy: str, items: int) -> float:
    from covet._engine import MemoryCache

    cache = MemoryCache(items, 1 << 30, policy)
    hits = 0
    for rank in trace:
        key = b"%d" % rank
        if cache.get(key) is None:
            cache.set(key, b"v")
        else:
            hits += 1
    return hits / len(trace)


async def two_levels(trace: list[int], items: int) -> dict[str, float]:
    from covet.cache import Cache, MemoryLevel, RedisLevel

    cache = Cache(
        MemoryLevel(items), RedisLevel("redis://127.0.0.1:6379/0"), namespace=f"bench-zipf-{uuid.uuid4().hex[:8]}"
    )

    async def worker(part: list[int]) -> None:
        for rank in part:
            await cache.get_or_set(str(rank), lambda r=rank: _value(r), ttl=3600)

    try:
        await asyncio.gather(*(worker(trace[i::64]) for i in range(64)))
        figures = cache.figures()
    finally:
        await cache.clear()
        await cache.aclose()
    total = len(trace)
    memory_hits = figures["memory"]["hits"]
    redis_hits = figures["redis"]["hits"]
    return {
        "memory": memory_hits / total,
        "redis": redis_hits / total,
        "overall": (memory_hits + redis_hits) / total,
        "computed": figures["cache"]["computed"] / total,
    }


async def _value(rank: int) -> int:
    return rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1_000_000, help="length of the Zipf trace")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measure every server this many times")
    args = parser.parse_args()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# bench-cache, {when}",
        "",
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "",
    ]

    if not args.skip_http:
        lines += http_tables(args.seconds, args.repeat)
        print("\n".join(lines), flush=True)

    trace = zipf_trace(100_000, args.requests)
    lines += [f"## Hit rate, Zipf s = 1.0 over 100,000 keys, {args.requests:,} requests", ""]
    lines += ["| memory level alone (10,000 entries) | hit rate |", "|---|---|"]
    for policy in ("s3fifo", "lru"):
        lines.append(f"| {policy} | {memory_only(trace, policy, 10_000):.1%} |")
        print(lines[-1], flush=True)
    shares = asyncio.run(two_levels(trace, 10_000))
    lines += ["", "| memory (10,000, S3-FIFO) in front of Redis | share of requests |", "|---|---|"]
    lines += [f"| {name} | {value:.1%} |" for name, value in shares.items()]
    print("\n".join(lines[-5:]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
