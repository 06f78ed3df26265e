"""The invalidation bus (Redis pub/sub) when its Redis goes away: it subscribes again by
itself, clears the memory level it may have missed messages for, and invalidations published
afterwards reach it again. Two caches in one process stand for two processes; the Redis is
the test's own (tests/backends.py), killed, restarted and frozen."""

from __future__ import annotations

import asyncio
import time

import pytest

from covet.cache import Cache, MemoryLevel, RedisLevel
from tests.backends import OwnRedis


def pair(url: str) -> tuple[Cache, Cache]:
    def one() -> Cache:
        return Cache(MemoryLevel(100), RedisLevel(url, timeout=0.3, retry_interval=0.2), namespace="bus")

    return one(), one()


def held(cache: Cache, key: str) -> bool:
    memory = cache.levels[0]
    assert isinstance(memory, MemoryLevel)
    return memory.store.get(cache.full_key(key).encode()) is not None


async def until(predicate, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_bus_subscribes_again_after_a_redis_restart(own_redis: OwnRedis) -> None:
    async def scenario() -> None:
        a, b = pair(own_redis.url)
        try:
            await b.set("k", 1)
            assert await b.get("k") == 1  # b listens from here on
            own_redis.kill()
            await b.levels[0].set(b.full_key("missed"), b"x", None, ())  # written while unsubscribed
            own_redis.start()

            async def cleared() -> bool:
                return not held(b, "missed")

            await until(cleared, "b to clear its memory level once subscribed again")
            await b.set("k", 2)

            async def reached() -> bool:
                await a.invalidate(keys=["k"])
                return not held(b, "k")

            await until(reached, "an invalidation from a to reach b after the restart")
        finally:
            await a.aclose()
            await b.aclose()

    asyncio.run(scenario())


def test_an_idle_or_frozen_subscription_keeps_the_memory_level(own_redis: OwnRedis) -> None:
    """A quiet channel is not an outage (redis-py >= 8 reads pub/sub without the socket
    timeout), nor is a Redis that pauses: nothing is cleared, and messages flow on after."""

    async def scenario() -> None:
        a, b = pair(own_redis.url)
        try:
            await b.set("k", 1)
            assert await b.get("k") == 1
            await asyncio.sleep(1.0)  # > 3 socket timeouts of 0.3 s, with nothing on the channel
            own_redis.freeze()
            await asyncio.sleep(0.5)
            own_redis.thaw()
            assert held(b, "k")
            await a.invalidate(keys=["k"])

            async def reached() -> bool:
                return not held(b, "k")

            await until(reached, "the invalidation to reach b")
        finally:
            await a.aclose()
            await b.aclose()

    asyncio.run(scenario())


@pytest.fixture(autouse=True)
def _quiet_redis_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR", logger="covet.redis")
