"""The servers of `make bench-cache`: one cached endpoint answering the same JSON bytes.

* covet: a function cached with `covet.cache` (`COVET_BENCH_LEVEL`: `memory`, the engine's
  memory level, or `redis`, a Redis-only cache so every hit is a Redis round trip), or, with
  `response`, the whole response cached (`cache=CachePolicy(...)`): a hit is the engine's;
* FastAPI: the endpoint cached with fastapi-cache2 (`COVET_BENCH_LEVEL`: its `InMemoryBackend`
  or its `RedisBackend`), the way its documentation shows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

LEVEL = os.environ.get("COVET_BENCH_LEVEL", "memory")
REDIS = os.environ.get("COVET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
NS = os.environ.get("COVET_BENCH_NS", "bench-cache")
PAYLOAD = {"items": [{"id": i, "name": f"item {i}", "price": i * 1.5} for i in range(10)]}


def covet_app() -> Any:
    from covet import Covet
    from covet.cache import Cache, CachePolicy, MemoryLevel, RedisLevel

    level = RedisLevel(REDIS) if LEVEL == "redis" else MemoryLevel(10_000)
    cache = Cache(level, namespace=NS)
    app = Covet()
    if LEVEL == "response":

        @app.get("/cached", cache=CachePolicy(cache, ttl=600))
        async def whole() -> dict[str, Any]:
            return PAYLOAD

        return app

    @cache(ttl=600, key="payload")
    async def payload() -> dict[str, Any]:
        return PAYLOAD

    @app.get("/cached")
    async def cached() -> dict[str, Any]:
        return await payload()

    return app


def fastapi_app() -> Any:
    from fastapi import FastAPI
    from fastapi_cache import FastAPICache
    from fastapi_cache.decorator import cache

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if LEVEL == "memory":
            from fastapi_cache.backends.inmemory import InMemoryBackend

            FastAPICache.init(InMemoryBackend(), prefix=NS)
        else:
            from fastapi_cache.backends.redis import RedisBackend
            from redis import asyncio as aioredis

            FastAPICache.init(RedisBackend(aioredis.from_url(REDIS)), prefix=NS)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/cached")
    @cache(expire=600)
    async def cached() -> dict[str, Any]:
        return PAYLOAD

    return app


def __getattr__(name: str) -> Any:
    if name == "covet":
        return covet_app()
    if name == "fastapi":
        return fastapi_app()
    raise AttributeError(name)
