"""A cache over the Redis at `COVET_TEST_REDIS` in namespace `COVET_TEST_CACHE_NS`, for the
tests that run two `covet run` processes (test_cache_processes) or stop Redis under it
(test_cache_failure). Each computation is counted in Redis, across processes."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from covet import Covet
from covet.cache import Cache, MemoryLevel, RedisLevel

URL = os.environ.get("COVET_TEST_REDIS", "redis://127.0.0.1:6379/0")
NS = os.environ["COVET_TEST_CACHE_NS"]

level = RedisLevel(URL, retry_interval=0.2)
cache = Cache(MemoryLevel(1000), level, namespace=NS)
app = Covet()
computed_here = 0


async def slow_value(key: str) -> dict[str, Any]:
    global computed_here
    computed_here += 1
    try:
        await level.redis.run(lambda r: r.incr(f"{NS}:computed:{key}"))
    except Exception:  # noqa: BLE001 (Redis down: the count is local only)
        pass
    await asyncio.sleep(0.3)
    return {"key": key, "version": os.environ.get("COVET_TEST_VERSION", "1")}


@app.get("/value/{key}")
async def value(key: str) -> dict[str, Any]:
    return await cache.get_or_set(key, lambda: slow_value(key), ttl=60, tags=[f"tag:{key}"])


@app.post("/invalidate/{tag}")
async def invalidate(tag: str) -> dict[str, bool]:
    await cache.invalidate(tags=[tag])
    return {"ok": True}


@app.get("/figures")
async def figures() -> dict[str, Any]:
    return {**cache.figures(), "computed_here": computed_here, "pid": os.getpid()}
