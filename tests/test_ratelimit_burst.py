"""A shared Redis limit holds under a burst: 1,000 concurrent requests split across two server
processes on one Redis (the test's own) admit exactly the limit. Before, the 101st concurrent
check found the client's pool empty ("Too many connections"), was taken for Redis being down,
and failed open: two processes with a 100/min limit admitted 900 of 1,000."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.backends import OwnRedis
from tests.conftest import Server, start_server

CONCURRENT = 1000
LIMIT = 100


async def burst(servers: list[Server]) -> Counter[int]:
    """`CONCURRENT` requests in flight at once, half to each server, each on its own connection."""
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        ready = asyncio.Event()

        async def one(i: int) -> int:
            await ready.wait()
            response = await client.get(servers[i % 2].url + "/limited")
            return response.status_code

        tasks = [asyncio.create_task(one(i)) for i in range(CONCURRENT)]
        await asyncio.sleep(0)  # every task is waiting on `ready`: release them together
        ready.set()
        return Counter(await asyncio.gather(*tasks))


@pytest.mark.parametrize("fail_open", [True, False])
def test_burst_across_two_processes_admits_exactly_the_limit(
    own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch, fail_open: bool
) -> None:
    monkeypatch.setenv("COVET_TEST_RL_REDIS", own_redis.url)
    monkeypatch.setenv("COVET_TEST_RL_PREFIX", "covet-test:burst:")
    # Per hour, not per minute: GCRA gives one unit back every period/limit (0.6 s at 100/minute),
    # and on a loaded machine the burst itself can last longer than that, which would rightly
    # admit a 101st. At 100/hour the next unit is 36 s away, so "exactly the limit" is exact.
    monkeypatch.setenv("COVET_TEST_RL_LIMIT", f"{LIMIT}/hour")
    monkeypatch.setenv("COVET_TEST_RL_FAIL_OPEN", "1" if fail_open else "0")
    servers = [start_server("tests.apps.ratelimit:app", "--no-access-log") for _ in range(2)]
    try:
        codes = asyncio.run(burst(servers))
    finally:
        logs = [server.stop()[1] for server in servers]
    assert codes == Counter({200: LIMIT, 429: CONCURRENT - LIMIT}), (codes, logs)
    assert not any("unavailable" in log for log in logs), logs


def test_concurrent_checks_share_one_pipeline_and_each_gets_its_own_answer(own_redis: OwnRedis) -> None:
    """Checks made in one turn of the event loop go to Redis together: with a single pooled
    connection and a pool wait far too short to queue 500 separate calls, all 500 are answered,
    the limit is exact, and each answer is its own (remaining counts 99 down to 0, once each)."""
    from covet.ratelimit import RedisBackend, parse_rate

    async def scenario() -> list[Any]:
        backend = RedisBackend(own_redis.url, prefix="batch:", max_connections=1, pool_timeout=0.001)
        rate = parse_rate(f"{LIMIT}/minute")
        await backend.hit("warm-up", rate)  # opens the one connection
        decisions = await asyncio.gather(*(backend.hit("k", rate) for _ in range(500)))
        await backend.close()
        return decisions

    decisions = asyncio.run(scenario())
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == LIMIT
    assert sorted(d.remaining for d in allowed) == list(range(LIMIT))
    assert all(d.retry_after > 0 for d in decisions if not d.allowed)
