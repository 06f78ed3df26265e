"""covet.cache on real Redis and Memcached (127.0.0.1:6379 and :11211, started by
scripts/services.sh): fill and hit through each level, TTLs, namespaces, serializers,
invalidation by key, prefix and tag, single flight, stale-while-revalidate, figures."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from covet.cache import JSON, Cache, MemcachedLevel, MemoryLevel, Pickle, Raw, RedisLevel
from covet.cache.envelope import Envelope
from tests.conftest import wait_for

REDIS = "redis://127.0.0.1:6379/0"
MEMCACHED = "127.0.0.1:11211"


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def namespace() -> str:
    return f"test-cache-{uuid.uuid4().hex[:12]}"


def three_levels(**options: Any) -> Cache:
    return Cache(MemoryLevel(1000), RedisLevel(REDIS), MemcachedLevel(MEMCACHED), namespace=namespace(), **options)


async def closing(cache: Cache, body: Callable[[Cache], Awaitable[Any]]) -> Any:
    try:
        return await body(cache)
    finally:
        await cache.clear()
        await cache.aclose()


@pytest.mark.parametrize("lower", ["redis", "memcached"])
def test_a_miss_fills_the_levels_above(lower: str) -> None:
    async def body(cache: Cache) -> None:
        memory, level = cache.levels
        envelope = Envelope.make(JSON().dumps({"n": 1}), 60, 0, 0, ())
        await level.set(cache.full_key("k"), envelope.pack(), 60, ())
        assert await cache.get("k") == {"n": 1}  # from the lower level...
        assert level.figures()["hits"] == 1
        assert memory.figures()["fills"] == 1
        assert await cache.get("k") == {"n": 1}  # ...then from memory
        assert level.figures()["hits"] == 1
        assert memory.figures()["hits"] == 1
        assert await cache.get("absent", "dflt") == "dflt"
        assert level.figures()["misses"] == 1

    second = RedisLevel(REDIS) if lower == "redis" else MemcachedLevel(MEMCACHED)
    run(closing(Cache(MemoryLevel(100), second, namespace=namespace()), body))


def test_three_levels_set_get_many_delete() -> None:
    async def body(cache: Cache) -> None:
        await cache.set("a", [1, 2])
        await cache.set("b", {"x": "y"})
        assert await cache.get_many(["a", "b", "c"]) == {"a": [1, 2], "b": {"x": "y"}}
        cache.levels[0].store.clear()
        await cache.levels[1].delete_many([cache.full_key("a")])
        assert await cache.get("a") == [1, 2]  # memory and Redis miss: Memcached has it
        figures = cache.figures()
        assert figures["memcached"]["hits"] == 1
        assert figures["memory"]["fills"] == 1 and figures["redis"]["fills"] == 1
        await cache.delete("a")
        assert await cache.get("a") is None
        for level in cache.levels:
            assert await level.get_many([cache.full_key("a")]) == [None]

    run(closing(three_levels(), body))


def test_ttl_expires_in_every_level() -> None:
    async def body(cache: Cache) -> None:
        await cache.set("short", "v", ttl=1)
        assert await cache.get("short") == "v"

        async def held() -> bool:
            return any([await lv.get_many([cache.full_key("short")]) != [None] for lv in cache.levels])

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and await held():
            await asyncio.sleep(0.1)
        assert await cache.get("short") is None
        for level in cache.levels:
            assert await level.get_many([cache.full_key("short")]) == [None]

    run(closing(three_levels(), body))


def test_namespaces_keep_apart() -> None:
    async def body(one: Cache) -> None:
        other = Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace())
        await one.set("k", 1)
        await other.set("k", 2)
        await other.clear()
        assert await one.get("k") == 1 and await other.get("k") is None
        await other.aclose()

    run(closing(Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace()), body))


def test_serializers() -> None:
    async def body() -> None:
        for serializer, value in [(JSON(), {"a": [1, None]}), (Pickle(), {1, 2, 3}), (Raw(), b"\x00\xff")]:
            cache = Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace(), serializer=serializer)
            await cache.set("v", value)
            cache.levels[0].store.clear()
            assert await cache.get("v") == value
            await cache.clear()
            await cache.aclose()
        with pytest.raises(TypeError):
            await Cache(MemoryLevel(10), serializer=Raw()).set("v", "not bytes")

    run(body())


def test_invalidation_by_key_prefix_and_tag() -> None:
    async def body(cache: Cache) -> None:
        await cache.set("user:1:name", "a", tags=["user:1"])
        await cache.set("user:1:mail", "b")
        await cache.set("post:7", "c", tags=["user:1", "posts"])
        await cache.set("post:8", "d", tags=["posts"])
        await cache.invalidate(tags=["user:1"])
        assert await cache.get_many(["user:1:name", "user:1:mail", "post:7", "post:8"]) == {
            "user:1:mail": "b",
            "post:8": "d",
        }
        await cache.invalidate(prefix="user:")
        assert await cache.get("user:1:mail") is None
        # Memcached cannot list keys: it learnt them from the Redis level.
        for key in ["user:1:name", "user:1:mail", "post:7"]:
            assert await cache.levels[2].get_many([cache.full_key(key)]) == [None]
        assert await cache.get("post:8") == "d"

    run(closing(three_levels(), body))


def test_a_filled_entry_keeps_its_tags() -> None:
    async def body(cache: Cache) -> None:
        await cache.set("k", 1, tags=["t"])
        cache.levels[0].store.clear()
        assert await cache.get("k") == 1  # memory filled from Redis, with the tag
        assert len(cache.levels[0].store) == 1
        cache.levels[0].store.delete_tags([cache.full_key("t")])
        assert len(cache.levels[0].store) == 0

    run(closing(Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace()), body))


def test_1000_concurrent_misses_compute_once() -> None:
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return {"n": calls}

    async def body(cache: Cache) -> None:
        results = await asyncio.gather(*(cache.get_or_set("cold", compute, ttl=30) for _ in range(1000)))
        assert calls == 1
        assert all(r == {"n": 1} for r in results)
        assert cache.figures()["redis"]["misses"] == 1  # one caller went past memory

    run(closing(Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace()), body))


def test_a_failed_computation_reaches_every_waiter_and_is_not_cached() -> None:
    async def boom() -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("upstream down")

    async def body(cache: Cache) -> None:
        results = await asyncio.gather(*(cache.get_or_set("k", boom) for _ in range(10)), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) for r in results)
        assert await cache.get("k") is None

    run(closing(Cache(MemoryLevel(100), namespace=namespace()), body))


def test_stale_while_revalidate_serves_stale_and_refreshes_once() -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    async def body(cache: Cache) -> None:
        assert await cache.get_or_set("k", compute, ttl=0.2, stale=30, beta=0) == 1
        await asyncio.sleep(0.3)  # past its freshness, within its stale window
        stale = await asyncio.gather(*(cache.get_or_set("k", compute, ttl=0.2, stale=30, beta=0) for _ in range(50)))
        assert stale == [1] * 50  # answered at once with the stale value
        for _ in range(100):
            if await cache.get("k") == 2:
                break
            await asyncio.sleep(0.02)
        assert await cache.get("k") == 2
        assert calls == 2  # one background refresh for the 50 callers

    run(closing(Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace()), body))


def test_early_refresh_renews_a_hot_key_before_it_expires() -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)  # slow to compute: refreshed well before the end
        return calls

    async def body(cache: Cache) -> None:
        await cache.get_or_set("k", compute, ttl=1.0)
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.5
        while loop.time() < end:
            value = await cache.get_or_set("k", compute, ttl=1.0)
            assert value is not None
            await asyncio.sleep(0.02)
        assert calls >= 2  # refreshed while still fresh, never seen missing

    run(closing(Cache(MemoryLevel(100), namespace=namespace()), body))


def test_decorator_and_dependency() -> None:
    from covet import Covet, Depends
    from covet.testclient import TestClient

    cache = Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=namespace())
    calls: list[int] = []

    @cache(ttl=60, key="square:{n}", tags=["squares"])
    async def square(n: int) -> int:
        calls.append(n)
        return n * n

    @contextlib.asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[None]:
        yield
        await cache.aclose()  # its invalidation listener belongs to the app's loop

    app = Covet(lifespan=lifespan)

    @app.get("/square/{n}")
    async def get_square(n: int) -> dict[str, int]:
        return {"square": await square(n)}

    @app.get("/by-hand/{n}")
    async def by_hand(n: int, c: Cache = Depends(cache)) -> dict[str, Any]:
        await c.set(f"hand:{n}", n, ttl=60)
        return {"back": await c.get(f"hand:{n}"), "same": c is cache}

    @app.post("/forget")
    async def forget() -> dict[str, bool]:
        await cache.invalidate(tags=["squares"])
        return {"ok": True}

    with TestClient(app) as client:
        assert client.get("/square/4").json() == {"square": 16}
        assert client.get("/square/4").json() == {"square": 16}
        assert calls == [4]
        assert client.get("/by-hand/3").json() == {"back": 3, "same": True}
        assert client.get("/by-hand/3?ttl=1").json() == {"back": 3, "same": True}
        client.post("/forget")
        assert client.get("/square/4").json() == {"square": 16}
        assert calls == [4, 4]
        assert square.key_for(4) == "square:4"

    async def cleanup() -> None:
        await cache.clear()
        await cache.aclose()

    run(cleanup())


def test_the_decorator_wants_async_functions() -> None:
    cache = Cache(MemoryLevel(10))
    with pytest.raises(TypeError, match="async def"):

        @cache(ttl=1)
        def not_async() -> int:
            return 1


def test_memory_level_bounds_and_figures() -> None:
    async def body(cache: Cache) -> None:
        for i in range(500):
            await cache.set(f"k{i}", "x" * 10)
        figures = cache.figures()["memory"]
        assert figures["entries"] <= 100
        assert figures["evictions"] >= 400

    run(closing(Cache(MemoryLevel(100, policy="lru"), namespace=namespace()), body))
    with pytest.raises(ValueError, match="policy"):
        MemoryLevel(10, policy="random")


def test_invalidation_reaches_another_cache_over_pubsub() -> None:
    async def body() -> None:
        ns = namespace()
        one = Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=ns)
        two = Cache(MemoryLevel(100), RedisLevel(REDIS), namespace=ns)
        await one.set("k", 1, tags=["t"])
        assert await two.get("k") == 1  # now in two's memory level too
        await one.invalidate(tags=["t"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while len(two.levels[0].store) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        assert len(two.levels[0].store) == 0
        assert two.bus is not None and two.bus.received == 1
        await one.clear()
        await one.aclose()
        await two.aclose()

    run(body())


def test_wait_for_is_used_for_polling() -> None:
    # The process tests poll with tests.conftest.wait_for; make sure it is importable here.
    wait_for(lambda: True, "trivially true")
