"""Engine metrics with a cache and a database pool watched: a route that reads the cache, one
that holds a pooled connection until told to let go, and one that waits for a connection."""

import asyncio
import os

from covet import Covet
from covet.cache import Cache, MemoryLevel
from covet.db import Database
from covet.metrics import instrument

app = Covet()
db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///:memory:"), pool_size=1, max_overflow=0)
db.init_app(app)
cache = Cache(MemoryLevel(), namespace="items")
metrics = instrument(app)
metrics.watch(cache, "items")
metrics.watch(db, "main")
release = asyncio.Event()


@app.get("/cached/{key}")
async def cached(key: str) -> dict[str, object]:
    value = await cache.get(key)
    if value is None:
        await cache.set(key, key.upper())
    return {"hit": value is not None}


@app.get("/hold")
async def hold() -> dict[str, bool]:
    """Holds the pool's only connection until /release."""
    async with db.connection() as conn:
        await conn.fetchval("SELECT 1")
        await release.wait()
    release.clear()
    return {"held": True}


@app.get("/query")
async def query() -> dict[str, int]:
    """Needs a connection: waits while /hold has it."""
    async with db.connection() as conn:
        return {"one": await conn.fetchval("SELECT 1")}


@app.post("/release")
async def release_it() -> dict[str, bool]:
    release.set()
    return {"released": True}
