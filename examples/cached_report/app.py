"""A slow PostgreSQL report cached at two levels: the engine's memory in each process, and
Redis shared by all of them. The first request runs the query (a deliberate `pg_sleep`);
the next ones are answered from memory, a new process gets it from Redis, and
`POST /sales/{region}/refresh` drops it everywhere (every process's memory, over pub/sub).

    make run-style:  python -m covet run examples.cached_report.app:app --workers 2

`DATABASE_URL` (default: postgresql://postgres@127.0.0.1:5432/test) and `REDIS_URL`
(default: redis://127.0.0.1:6379/0) say where the backends are.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from covet import Covet, Depends
from covet.cache import Cache, MemoryLevel, RedisLevel

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

cache = Cache(
    MemoryLevel(max_items=10_000, max_bytes=32 * 1024 * 1024),
    RedisLevel(REDIS_URL),
    namespace=os.environ.get("CACHE_NAMESPACE", "cached-report"),
)
pool: asyncpg.Pool | None = None
queries = 0  # how many times this process ran the slow query


@asynccontextmanager
async def lifespan(app: Covet) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=4)
    yield
    await pool.close()
    await cache.aclose()


app = Covet(lifespan=lifespan)


@cache(ttl=300, stale=60, key="sales:{region}", tags=["sales:{region}"])
async def sales_report(region: str) -> dict[str, Any]:
    """The slow query: 200 ms of pg_sleep, standing in for a heavy aggregate."""
    global queries
    queries += 1
    assert pool is not None
    row = await pool.fetchrow(
        "SELECT $1::text AS region, count(*) AS days, sum(n) AS total "
        "FROM (SELECT pg_sleep(0.2)) AS slow, generate_series(1, 30) AS n",
        region,
    )
    return {"region": row["region"], "days": row["days"], "total": row["total"]}


@app.get("/sales/{region}")
async def sales(region: str) -> dict[str, Any]:
    return await sales_report(region)


@app.post("/sales/{region}/refresh")
async def refresh(region: str, c: Cache = Depends(cache)) -> dict[str, str]:
    await c.invalidate(tags=[f"sales:{region}"])
    return {"refreshed": region}


@app.get("/cache/figures")
async def figures() -> dict[str, Any]:
    return {**cache.figures(), "queries": queries}
