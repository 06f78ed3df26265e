"""An app with request ids, the access log and tracing on: one route touches PostgreSQL,
Redis, a cache and calls this same server over httpx, so one trace holds every kind of span.

The OTLP endpoint, the database and Redis come from the environment the test sets."""

import logging
import os

import httpx
from sqlalchemy import text

from covet import Covet, Depends, HTTPException, Request
from covet.cache import Cache, MemoryLevel
from covet.db import Database
from covet.health import health_checks
from covet.logs import current_request_id, request_logging
from covet.metrics import instrument
from covet.redis import RedisClient
from covet.tracing import tracing

app = Covet(title="traced")
db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///:memory:"))
db.init_app(app)
redis = RedisClient(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), name="traced")
cache = Cache(MemoryLevel(), namespace="traced")
log = logging.getLogger("traced")
metrics = instrument(app)
metrics.watch(cache, "items")
metrics.watch(db, "main")
health_checks(app, {"database": db})


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": current_request_id()}


@app.get("/items/{item_id}")
async def item(item_id: int, request: Request, session=Depends(db.session)) -> dict[str, object]:  # noqa: ANN001
    log.info("looking up item %d", item_id)
    value = (await session.execute(text("SELECT :n + 1"), {"n": item_id})).scalar_one()
    await redis.run(lambda r: r.set(f"traced:{item_id}", value))
    cached = await cache.get(f"item:{item_id}")
    if cached is None:
        await cache.set(f"item:{item_id}", value)
    async with httpx.AsyncClient(base_url=str(request.base_url)) as client:
        pong = (await client.get("/ping")).json()
    return {"id": item_id, "value": value, "cached": cached is not None, "pong": pong["pong"]}


doubled = db.prepare("SELECT CAST(:n AS integer) * 2 AS twice")


@app.get("/lean/{n}")
async def lean(n: int) -> dict[str, int]:
    async with db.connection() as conn:  # asyncpg's own connection: no SQLAlchemy on the way
        row = await doubled.fetch_one(conn, n=n)
    return {"twice": row["twice"]}


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("a bug")


@app.get("/missing")
async def missing() -> None:
    raise HTTPException(404, "No such thing")


request_logging(app)
tracing(app, service_name="traced-test")
