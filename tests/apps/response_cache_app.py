"""Routes whose whole responses are cached (`cache=CachePolicy(...)`), in a memory level over
the Redis at `COVET_TEST_REDIS`, namespace `COVET_TEST_CACHE_NS`. Every handler run and every
pass through the Python middleware is counted, so a test can tell that no Python ran for a
request the engine answered from the cache."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from covet import Covet, Request, Response
from covet.cache import Cache, CachePolicy, MemoryLevel, RedisLevel

URL = os.environ.get("COVET_TEST_REDIS", "redis://127.0.0.1:6379/0")
NS = os.environ.get("COVET_TEST_CACHE_NS") or f"test-response-cache-{os.getpid()}-{os.urandom(3).hex()}"

cache = Cache(MemoryLevel(1000), RedisLevel(URL, retry_interval=0.2), namespace=NS)
app = Covet()
runs: Counter[str] = Counter()
middleware_calls = 0


@app.middleware("http")
async def count(request: Request, call_next: Any) -> Response:
    global middleware_calls
    middleware_calls += 1
    return await call_next(request)


@app.get("/item/{item_id}", cache=CachePolicy(cache, ttl=60, tags=["items", "item:{item_id}"]))
async def item(item_id: int, q: str = "") -> dict[str, Any]:
    runs["item"] += 1
    return {"item": item_id, "q": q, "run": runs["item"]}


@app.get("/greeting", cache=CachePolicy(cache, ttl=60, vary=["accept-language"]))
async def greeting(request: Request) -> dict[str, Any]:
    runs["greeting"] += 1
    lang = request.headers.get("accept-language", "en")
    return {"hello": {"fr": "bonjour"}.get(lang, "hello"), "run": runs["greeting"]}


@app.get("/brief", cache=CachePolicy(cache, ttl=1))
async def brief() -> dict[str, int]:
    runs["brief"] += 1
    return {"run": runs["brief"]}


@app.get("/cookie", cache=CachePolicy(cache, ttl=60))
async def cookie() -> Response:
    runs["cookie"] += 1
    response = Response(str(runs["cookie"]))
    response.set_cookie("session", "abc")
    return response


@app.get("/maybe/{n}", cache=CachePolicy(cache, ttl=60))
async def maybe(n: int) -> Response:
    runs["maybe"] += 1
    return Response(str(runs["maybe"]), status_code=200 if n else 404)


@app.get("/counts")
async def counts() -> dict[str, Any]:
    return {"runs": dict(runs), "middleware": middleware_calls, "pid": os.getpid()}


@app.post("/invalidate")
async def invalidate(tag: str = "", prefix: str | None = None, key: str | None = None) -> dict[str, bool]:
    await cache.invalidate(tags=[tag] if tag else [], prefix=prefix, keys=[key] if key else [])
    return {"ok": True}


@app.on_event("shutdown")
async def close_cache() -> None:
    await cache.aclose()
