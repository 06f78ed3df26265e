"""A shared Redis limit holds under a burst: 1,000 concurrent requests split across two server
processes on one Redis (the test's own) admit exactly the limit. Before, the 101st concurrent
check found the client's pool empty ("Too many connections"), was taken for Redis being down,
and failed open: two processes with a 100/min limit admitted 900 of 1,000."""

from __future__ import annotations

import asyncio
from collections import Counter

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
    monkeypatch.setenv("COVET_TEST_RL_LIMIT", f"{LIMIT}/minute")
    monkeypatch.setenv("COVET_TEST_RL_FAIL_OPEN", "1" if fail_open else "0")
    servers = [start_server("tests.apps.ratelimit:app", "--no-access-log") for _ in range(2)]
    try:
        codes = asyncio.run(burst(servers))
    finally:
        logs = [server.stop()[1] for server in servers]
    assert codes == Counter({200: LIMIT, 429: CONCURRENT - LIMIT}), (codes, logs)
    assert not any("unavailable" in log for log in logs), logs
