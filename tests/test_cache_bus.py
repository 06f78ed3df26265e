"""The invalidation bus (Redis pub/sub) when its Redis goes away: it subscribes again by
itself, clears the memory level it may have missed messages for, and invalidations published
afterwards reach it again; a Redis that stops answering without a reset (frozen) is found out
by the bus's PING within the stated bound. Two caches in one process stand for two processes;
the Redis is the test's own (tests/backends.py), killed, restarted and frozen."""

from __future__ import annotations

import asyncio
import time

import pytest

from covet.cache import Cache, MemoryLevel, RedisLevel
from tests.backends import OwnRedis
from tests.conftest import until


def pair(url: str, check: float = 1.0) -> tuple[Cache, Cache]:
    def one() -> Cache:
        level = RedisLevel(url, timeout=0.3, retry_interval=0.2)
        return Cache(MemoryLevel(100), level, namespace="bus", invalidation_check=check)

    return one(), one()


def held(cache: Cache, key: str) -> bool:
    memory = cache.levels[0]
    assert isinstance(memory, MemoryLevel)
    return memory.store.get(cache.full_key(key).encode()) is not None


async def listening_again(a: Cache, b: Cache, after: str) -> None:
    """Once Redis is back: b clears what was filled while it was unsubscribed (the entry
    `missed`), and an invalidation published by a reaches b again."""

    async def cleared() -> bool:
        return not held(b, "missed")

    await until(cleared, f"b to clear its memory level once subscribed again after the {after}")
    await b.set("k", 2)

    async def reached() -> bool:
        await a.invalidate(keys=["k"])
        return not held(b, "k")

    await until(reached, f"an invalidation from a to reach b after the {after}")


def test_the_bus_subscribes_again_after_a_redis_restart(own_redis: OwnRedis) -> None:
    async def scenario() -> None:
        a, b = pair(own_redis.url)
        try:
            await b.set("k", 1)
            assert await b.get("k") == 1  # b listens from here on
            own_redis.kill()
            await b.levels[0].set(b.full_key("missed"), b"x", None, ())  # written while unsubscribed
            own_redis.start()
            await listening_again(a, b, "restart")
        finally:
            await a.aclose()
            await b.aclose()

    asyncio.run(scenario())


def test_an_idle_or_briefly_frozen_subscription_keeps_the_memory_level(own_redis: OwnRedis) -> None:
    """A quiet channel is not an outage (its PING is answered), nor is a Redis that pauses for
    less than the check interval: nothing is cleared, and messages flow on after."""

    async def scenario() -> None:
        a, b = pair(own_redis.url)
        try:
            await b.set("k", 1)
            assert await b.get("k") == 1
            await asyncio.sleep(1.5)  # > 3 socket timeouts of 0.3 s and a PING, nothing published
            own_redis.freeze()
            await asyncio.sleep(0.5)  # half the check interval (1 s) a PING may wait for its answer
            own_redis.thaw()
            assert held(b, "k")
            assert b.figures()["cache"]["subscription_losses"] == 0
            await a.invalidate(keys=["k"])

            async def reached() -> bool:
                return not held(b, "k")

            await until(reached, "the invalidation to reach b")
        finally:
            await a.aclose()
            await b.aclose()

    asyncio.run(scenario())


def test_a_subscription_that_dies_silently_is_found_out_within_the_bound(own_redis: OwnRedis) -> None:
    """Redis frozen (SIGSTOP: no reset, no answer): the bus's PING goes unanswered, so within
    2 x the check interval the subscription counts as dead and the memory level is cleared
    (invalidations may be lost from here on); once Redis answers again the bus subscribes anew,
    clears what was filled meanwhile, and invalidations reach it again."""
    check = 0.3

    async def scenario() -> None:
        a, b = pair(own_redis.url, check)
        try:
            await b.set("k", 1)
            assert await b.get("k") == 1  # b listens from here on
            own_redis.freeze()
            frozen_at = time.monotonic()

            async def dropped() -> bool:
                return not held(b, "k")

            await until(dropped, "b to drop its memory level", timeout=10 * check)
            found_out = time.monotonic() - frozen_at
            # The bound is 2 x check (a PING after `check` of silence, `check` for its answer);
            # the slack is for a loaded machine's timers.
            assert found_out <= 2 * check + 0.5, found_out
            assert b.figures()["cache"]["subscription_losses"] >= 1
            await b.levels[0].set(b.full_key("missed"), b"x", None, ())  # filled while unsubscribed
            own_redis.thaw()
            await listening_again(a, b, "freeze")
        finally:
            own_redis.thaw()
            await a.aclose()
            await b.aclose()

    asyncio.run(scenario())


@pytest.fixture(autouse=True)
def _quiet_redis_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR", logger="covet.redis")
