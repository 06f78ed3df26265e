"""The five fault scenarios of issue 15. Each starts what it needs (covet processes, its own
redis-server or PostgreSQL cluster from tests/backends.py), runs a load through the fault and
returns Tallies. Phase lengths are chosen so the whole run takes about two minutes."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid

from chaos.client import Answer, Connection
from chaos.load import Phases
from chaos.servers import start_covet
from chaos.tally import Tally
from tests.backends import OwnRedis, PrivateCluster

CLIENT_TIMEOUT = 5.0  # a request unanswered this long counts as hung (no answer)


async def shutdown(workers: int) -> list[Tally]:
    """SIGTERM with keep-alive and Connection: close clients sending, slow handlers in flight."""
    server = await asyncio.to_thread(start_covet, "tests.apps.lifecycle:app", "--workers", str(workers))
    tally = Tally(f"1. SIGTERM under load, --workers {workers}")
    conns = [Connection(server.port, keep_alive=i % 2 == 0, timeout=40) for i in range(12)]

    async def send(conn: Connection, worker: int, number: int) -> Answer:
        return await conn.request("GET", "/slow?ms=800" if worker < 4 else "/fast")

    load = Phases(conns, send, tally, pace=0.005)
    await load.hold(2.0)
    started = time.monotonic()
    code = await asyncio.to_thread(server.stop, signal.SIGTERM, 40.0)
    took = time.monotonic() - started
    await load.hold(0.5)  # clients now meet a closed port: refusals, counted apart
    await load.finish()
    tally.notes.append(f"exit code {code} {took:.1f} s after SIGTERM")
    return [tally]


async def ratelimit_burst(requests: int = 1000, concurrency: int = 1000) -> list[Tally]:
    """A burst across two processes sharing one (own) Redis with a 100/minute limit."""
    if not OwnRedis.available():
        return [Tally("2. rate-limit burst", error="redis-server is not installed (make services installs it)")]
    redis = OwnRedis()
    await asyncio.to_thread(redis.start)
    env = {"CHAOS_REDIS_URL": redis.url, "CHAOS_RATE": "100/minute"}
    servers = [await asyncio.to_thread(start_covet, "chaos.apps.ratelimit:app", env=env) for _ in range(2)]
    tally = Tally(f"2. rate-limit burst, {requests} requests, 2 processes, 100/minute")
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> Answer:
        async with gate:
            return await Connection(servers[i % 2].port, keep_alive=False, timeout=CLIENT_TIMEOUT).request(
                "GET", "/limited"
            )

    try:
        started = time.monotonic()
        answers = await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
        await asyncio.to_thread(redis.kill)
    for answer in answers:
        tally.add(answer.outcome)
    admitted = sum(1 for a in answers if isinstance(a.outcome, int) and 200 <= a.outcome < 300)
    allowed = 100 + int(elapsed * 100 / 60)  # the burst, plus what refills while it runs
    tally.over_admitted = max(0, admitted - allowed)
    tally.notes.append(f"{admitted} admitted, at most {allowed} allowed in {elapsed:.1f} s")
    warned = sum(s.log_lines("unavailable") for s in servers)
    if warned:
        tally.notes.append(f"{warned} 'backend unavailable' warnings in the servers' logs")
    return [tally]


async def redis_outage() -> list[Tally]:
    """Sessions and JWT revocation checks while the app's Redis is killed, then frozen."""
    if not OwnRedis.available():
        return [Tally("3. Redis outage", error="redis-server is not installed (make services installs it)")]
    redis = OwnRedis()
    await asyncio.to_thread(redis.start)
    server = await asyncio.to_thread(start_covet, "tests.apps.redis_outage:app", env={"COVET_TEST_REDIS": redis.url})
    try:
        login = await Connection(server.port, keep_alive=False).request("POST", "/login/chaos")
        token = json.loads(login.body)["access_token"]
        killed = await _redis_phase(server.port, token, "3a. Redis killed (sessions + JWT)", redis.kill, redis.start)
        frozen = await _redis_phase(server.port, token, "3b. Redis frozen (sessions + JWT)", redis.freeze, redis.thaw)
    finally:
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(redis.kill)
    errors = server.log_lines("ERROR")
    killed.notes.append(f"{errors} ERROR lines in the server log over 3a and 3b")
    return [killed, frozen]


async def _redis_phase(port: int, token: str, name: str, fault: object, repair: object) -> Tally:
    tally = Tally(name, no_500=True)
    cookies: dict[int, str] = {}

    async def send(conn: Connection, worker: int, number: int) -> Answer:
        if worker % 2:
            return await conn.request("GET", "/me", headers={"Authorization": f"Bearer {token}"})
        return await conn.request("GET", "/count", headers={"Cookie": cookies[worker]} if worker in cookies else {})

    def keep_cookie(worker: int, answer: Answer) -> None:
        if "set-cookie" in answer.headers:
            cookies[worker] = answer.headers["set-cookie"].split(";")[0]

    conns = [Connection(port, keep_alive=i % 4 < 2, timeout=CLIENT_TIMEOUT) for i in range(8)]
    load = Phases(conns, send, tally, pace=0.01, on_answer=keep_cookie)
    await load.hold(1.5)
    await asyncio.to_thread(fault)  # type: ignore[arg-type]
    await load.hold(CLIENT_TIMEOUT + 1)
    await asyncio.to_thread(repair)  # type: ignore[arg-type]
    await load.hold(3.0)
    await load.finish()
    statuses = sorted(k for k in tally.outcomes if isinstance(k, int))
    tally.notes.append("statuses " + ", ".join(str(s) for s in statuses))
    return tally


async def postgres_outage() -> list[Tally]:
    """Inserts while an own PostgreSQL cluster stops (-m immediate, then -m fast) and starts
    again; afterwards every acknowledged row must be in the table."""
    reason = PrivateCluster.unavailable_reason()
    if reason:
        return [Tally("4. PostgreSQL stopped under inserts", error=reason)]
    cluster = PrivateCluster()
    await asyncio.to_thread(cluster.init)
    await asyncio.to_thread(cluster.start)
    server = await asyncio.to_thread(start_covet, "chaos.apps.db_insert:app", env={"DATABASE_URL": cluster.url})
    try:
        return [await _postgres_phase(server.port, cluster, mode) for mode in ("immediate", "fast")]
    finally:
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(cluster.destroy)


async def _postgres_phase(port: int, cluster: PrivateCluster, mode: str) -> Tally:
    tally = Tally(f"4{'ab'[mode == 'fast']}. PostgreSQL stopped -m {mode} under inserts")
    sent: dict[tuple[int, int], str] = {}
    answers: dict[str, Answer] = {}

    async def send(conn: Connection, worker: int, number: int) -> Answer:
        token = sent[worker, number] = f"{mode}-{uuid.uuid4().hex}"
        body = json.dumps({"token": token}).encode()
        answer = await conn.request("POST", "/rows", headers={"Content-Type": "application/json"}, body=body)
        answers[token] = answer
        return answer

    conns = [Connection(port, keep_alive=i % 2 == 0, timeout=15) for i in range(8)]
    load = Phases(conns, send, tally, pace=0.005)
    await load.hold(1.5)
    await asyncio.to_thread(cluster.stop, mode)
    await load.hold(2.0)
    await asyncio.to_thread(cluster.start)
    await load.hold(4.0)
    await load.finish()
    present = await _tokens_in_table(cluster.url, mode)
    acked = {t for t, a in answers.items() if isinstance(a.outcome, int) and 200 <= a.outcome < 300}
    tally.extra_lost = len(acked - present)
    refused_but_written = sum(1 for t, a in answers.items() if t in present and t not in acked)
    unknown = sum(
        1 for a in answers.values() if isinstance(a.outcome, int) and a.outcome >= 500 and b"unknown" in a.body.lower()
    )
    tally.notes.append(f"{len(acked)} acknowledged, {len(present)} rows present")
    tally.notes.append(f"{refused_but_written} not acknowledged yet written")
    tally.notes.append(f"{unknown} 5xx answers say the outcome is unknown")
    return tally


async def _tokens_in_table(url: str, mode: str) -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT token FROM chaos_rows WHERE token LIKE $1", f"{mode}-%")
    finally:
        await conn.close()
    return {r["token"] for r in rows}


MALFORMED = [
    ("POST", "/json", "application/json", b'{"a": '),
    ("POST", "/json", "application/json", b"\xff\xfe\x00"),
    ("POST", "/json", "application/json", b""),
    ("POST", "/json", "text/plain", b"[1, 2"),
    ("POST", "/json", "application/json", b'{"a": 1}}'),
    ("POST", "/json", "application/json", b'"\\ud800"'),
    ("POST", "/model", "application/json", b'{"name": '),
    ("POST", "/model", "application/json", b'{"name": "x", "n": "many"}'),
    ("POST", "/model", "application/json", b"[]"),
    ("GET", "/_covet/static/missing.js", "", b""),
    ("GET", "/_covet/static/../../../etc/passwd", "", b""),
    ("GET", "/_covet/static/%2e%2e/%2e%2e/pyproject.toml", "", b""),
    ("GET", "/_covet/static/", "", b""),
    ("GET", "/no/such/route", "", b""),
]


async def malformed(rounds: int = 20) -> list[Tally]:
    """Bad JSON to request.json() and to a typed body, missing and escaping static paths."""
    server = await asyncio.to_thread(start_covet, "chaos.apps.malformed:app")
    tally = Tally(f"5. malformed input ({len(MALFORMED)} kinds x {rounds})", no_500=True)
    bad: set[str] = set()
    try:
        conns = [Connection(server.port, keep_alive=i % 2 == 0, timeout=CLIENT_TIMEOUT) for i in range(4)]
        for number in range(rounds):
            for i, (method, path, ctype, body) in enumerate(MALFORMED):
                headers = {"Content-Type": ctype} if ctype else {}
                answer = await conns[(number + i) % 4].request(method, path, headers=headers, body=body)
                tally.add(answer.outcome)
                if not isinstance(answer.outcome, int) or answer.outcome >= 500:
                    bad.add(f"{method} {path} {body[:12]!r} -> {answer.outcome}")
        for conn in conns:
            await conn.close()
    finally:
        await asyncio.to_thread(server.stop)
    tally.notes.extend(sorted(bad))
    return [tally]


SCENARIOS = {
    "shutdown": lambda: _both(shutdown(1), shutdown(2)),
    "ratelimit": ratelimit_burst,
    "redis": redis_outage,
    "postgres": postgres_outage,
    "malformed": malformed,
}


async def _both(*runs: object) -> list[Tally]:
    out: list[Tally] = []
    for run in runs:
        out += await run  # type: ignore[misc]
    return out
