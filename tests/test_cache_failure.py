"""A cache level that goes down is skipped (logged once, counted) and the answers go on; it
comes back by itself. Always on the test's own Redis and Memcached processes, never the
shared ones."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

import httpx
import pytest

from covet.cache import Cache, LevelDown, MemcachedLevel, MemoryLevel, RedisLevel
from tests.backends import OwnMemcached, OwnRedis
from tests.conftest import Server, until, wait_for


def test_redis_down_is_skipped_and_recovers(own_redis: OwnRedis, caplog: pytest.LogCaptureFixture) -> None:
    level = RedisLevel(own_redis.url, timeout=0.3, retry_interval=0.2)
    cache = Cache(MemoryLevel(100), level, namespace="down")
    computed: list[str] = []

    async def compute(key: str) -> str:
        computed.append(key)
        return key.upper()

    async def body() -> None:
        await cache.set("kept", "in memory")
        own_redis.kill()
        with caplog.at_level(logging.INFO, logger="covet.redis"):
            for i in range(20):
                assert await cache.get_or_set(f"k{i}", lambda i=i: compute(f"k{i}")) == f"K{i}"
            assert await cache.get("kept") == "in memory"
            await cache.invalidate(keys=["kept"])  # no Redis to publish on: applied here anyway
            assert await cache.get("kept") is None
        assert computed == [f"k{i}" for i in range(20)]
        assert level.figures()["skipped"] > 0
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "covet.redis"]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]

        own_redis.start()

        async def back_in_redis() -> bool:
            await cache.set("after", 1)
            try:
                return await level.get_many([cache.full_key("after")]) != [None]
            except LevelDown:
                return False

        await until(back_in_redis, "the Redis level to take writes again")
        assert not level.redis.down
        await cache.aclose()

    asyncio.run(body())


def test_memcached_down_is_skipped_and_recovers(own_memcached: OwnMemcached, caplog: pytest.LogCaptureFixture) -> None:
    level = MemcachedLevel(own_memcached.server, timeout=0.3, retry_interval=0.2)
    cache = Cache(MemoryLevel(100), level, namespace="down")

    async def compute() -> str:
        return "fresh"

    async def body() -> None:
        await cache.set("k", "v")
        cache.levels[0].store.clear()
        assert await cache.get("k") == "v"  # from Memcached
        own_memcached.kill()
        with caplog.at_level(logging.INFO, logger="covet.cache"):
            for i in range(20):
                assert await cache.get_or_set(f"n{i}", compute) == "fresh"
        assert level.figures()["skipped"] > 0
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "covet.cache"]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]

        own_memcached.start()

        async def back() -> bool:
            await cache.set("after", 2)
            try:
                return await level.get_many([cache.full_key("after")]) != [None]
            except LevelDown:
                return False

        await until(back, "the Memcached level to take writes again")
        assert level.outage.down_since is None
        await cache.aclose()

    asyncio.run(body())


def test_a_covet_run_process_answers_while_redis_is_stopped(
    own_redis: OwnRedis, serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVET_TEST_REDIS", own_redis.url)
    monkeypatch.setenv("COVET_TEST_CACHE_NS", f"failure-{uuid.uuid4().hex[:8]}")
    server = serve("tests.apps.cache_app:app")
    with server.client() as client:
        assert client.get("/value/a").status_code == 200
        own_redis.kill()
        for key in ["a", "b", "c", "b"]:
            response = client.get(f"/value/{key}")
            assert response.status_code == 200, response.text
            assert response.json()["key"] == key
        skipped = client.get("/figures").json()["redis"]["skipped"]
        assert skipped > 0
        own_redis.start()

        def stored_again() -> bool:
            client.get("/value/d")
            return client.get("/figures").json()["redis"]["sets"] > 0 and _has(own_redis.url, "d")

        wait_for(stored_again, "the process to write to the restarted Redis")
    code, output = server.stop()
    assert output.count("Redis unavailable (cache") == 1, output


def _has(url: str, key: str) -> bool:
    import os

    import redis

    client = redis.Redis.from_url(url)
    try:
        return bool(client.exists(f"{os.environ['COVET_TEST_CACHE_NS']}:{key}"))
    finally:
        client.close()


def test_figures_answer_over_http(
    own_redis: OwnRedis, serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVET_TEST_REDIS", own_redis.url)
    monkeypatch.setenv("COVET_TEST_CACHE_NS", "figures")
    server = serve("tests.apps.cache_app:app")
    httpx.get(f"{server.url}/value/x")
    httpx.get(f"{server.url}/value/x")
    figures = httpx.get(f"{server.url}/figures").json()
    assert figures["memory"]["hits"] == 1
    assert figures["redis"]["misses"] == 1
    assert figures["cache"]["computed"] == 1
