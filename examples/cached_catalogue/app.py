"""A product catalogue whose whole responses are cached: `cache=CachePolicy(...)` on the
routes that read PostgreSQL, so a repeated request is answered by covet's engine from the
memory level before any Python runs (no handler, no query), and by Redis in a process whose
memory does not have it yet. Changing a price invalidates by tag, in every process.

    python -m covet run examples.cached_catalogue.app:app --workers 2

- `GET /products/{id}`: one product, its name in the language `Accept-Language` asks for
  (`vary`: one entry per language), cached 60 s, tagged `product:{id}`.
- `GET /products`: the list, cached 60 s, tagged `catalogue`.
- `PUT /products/{id}/price`: writes the new price, then `invalidate(tags=[...])`: the
  product's entries (every language) and the list are gone from every level and process.
- `GET /stats`: how often this process ran each cached handler, and the cache's figures.

`DATABASE_URL` (default: postgresql://postgres@127.0.0.1:5432/test), `REDIS_URL` (default:
redis://127.0.0.1:6379/0), `CACHE_NAMESPACE` and `CATALOGUE_TABLE` (default: both
`catalogue`) say where things are.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from covet import Covet, Header, HTTPException
from covet.cache import Cache, CachePolicy, MemoryLevel, RedisLevel

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TABLE = os.environ.get("CATALOGUE_TABLE", "catalogue")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", TABLE):
    raise ValueError(f"CATALOGUE_TABLE must be a plain lower-case SQL name, not {TABLE!r}")

SEED = [(1, "Teapot", "Théière", 2400), (2, "Kettle", "Bouilloire", 3900), (3, "Mug", "Tasse", 900)]

cache = Cache(
    MemoryLevel(max_items=10_000, max_bytes=32 * 1024 * 1024),
    RedisLevel(REDIS_URL),
    namespace=os.environ.get("CACHE_NAMESPACE", "catalogue"),
)
pool: asyncpg.Pool | None = None
runs: Counter[str] = Counter()  # handler runs in this process: a cache hit adds none


@asynccontextmanager
async def lifespan(app: Covet) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=4)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", TABLE)  # one creator at a time
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(id int PRIMARY KEY, name_en text NOT NULL, name_fr text NOT NULL, price_cents int NOT NULL)"
        )
        await conn.executemany(f"INSERT INTO {TABLE} VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING", SEED)
    yield
    await pool.close()
    await cache.aclose()


app = Covet(lifespan=lifespan)


def language(accept_language: str) -> str:
    return "fr" if accept_language.strip().lower().startswith("fr") else "en"


def db() -> asyncpg.Pool:
    assert pool is not None, "the lifespan opens the pool"
    return pool


@app.get(
    "/products/{product_id}",
    cache=CachePolicy(cache, ttl=60, vary=["accept-language"], tags=["product:{product_id}"]),
)
async def product(product_id: int, accept_language: str = Header("en")) -> dict[str, Any]:
    runs["product"] += 1
    lang = language(accept_language)
    row = await db().fetchrow(
        # pg_sleep stands in for the slow part a cache is for (a join, an aggregate).
        f"SELECT id, name_{lang} AS name, price_cents FROM {TABLE}, pg_sleep(0.05) WHERE id = $1",
        product_id,
    )
    if row is None:
        raise HTTPException(404, "No such product")  # an error: never stored (errors=False)
    return {**dict(row), "lang": lang}


@app.get("/products", cache=CachePolicy(cache, ttl=60, tags=["catalogue"]))
async def products() -> list[dict[str, Any]]:
    runs["catalogue"] += 1
    rows = await db().fetch(f"SELECT id, name_en AS name, price_cents FROM {TABLE} ORDER BY id")
    return [dict(r) for r in rows]


class Price(BaseModel):
    price_cents: int = Field(gt=0)


@app.put("/products/{product_id}/price")
async def set_price(product_id: int, price: Price) -> dict[str, Any]:
    updated = await db().fetchval(
        f"UPDATE {TABLE} SET price_cents = $2 WHERE id = $1 RETURNING id", product_id, price.price_cents
    )
    if updated is None:
        raise HTTPException(404, "No such product")
    # Every language's entry of this product, and the list: every level, every process.
    await cache.invalidate(tags=[f"product:{product_id}", "catalogue"])
    return {"id": product_id, "price_cents": price.price_cents}


@app.get("/stats")
async def stats() -> dict[str, Any]:
    return {"runs": dict(runs), "cache": cache.figures()}
