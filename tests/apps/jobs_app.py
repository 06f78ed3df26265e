"""The app tests/test_jobs.py drives through `covet run` and `covet worker`: jobs that succeed,
fail, time out, fail twice then succeed, run long, run later and periodically, and an order
written with its job in one transaction. Each job records its runs in a Redis list the test
reads; COVET_JOBS_QUEUE names the queue (one per test module)."""

from __future__ import annotations

import asyncio
import os
import time

import redis.asyncio as aioredis
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from covet import Covet, Depends, HTTPException
from covet.db import Database
from covet.jobs import JobFailed, Jobs

QUEUE = os.environ.get("COVET_JOBS_QUEUE", "jobs-example")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RUNS = f"covet:test:{QUEUE}:runs"

metadata = MetaData()
orders = Table(
    f"jobs_orders_{QUEUE.replace('-', '_')}",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item", String(50)),
)

db = Database(os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/test"), metadata=metadata)
jobs = Jobs(
    REDIS_URL, queue=QUEUE, redelivery_timeout=float(os.environ.get("COVET_JOBS_REDELIVERY", "600")), database=db
)
app = Covet()
db.init_app(app)
app.on_startup_handlers.append(db.create_all)
jobs.init_app(app)
store = aioredis.from_url(REDIS_URL)


async def record(*parts: object) -> int:
    """Appends one run to the list the test reads; returns how many runs this key has had."""
    entry = ":".join(str(p) for p in parts)
    await store.rpush(RUNS, f"{entry}@{time.time():.3f}@{os.getpid()}")
    return int(await store.incr(f"{RUNS}:{parts[0]}:{parts[1] if len(parts) > 1 else ''}"))


@jobs.job
async def add(a: int, b: int) -> int:
    await record("add", a, b)
    return a + b


@jobs.job(retries=3, backoff=0.5)
async def flaky(key: str) -> str:
    attempt = await record("flaky", key)
    if attempt < 3:
        raise RuntimeError(f"attempt {attempt} fails")
    return f"ok after {attempt}"


@jobs.job(retries=1, backoff=0.1)
async def always_fails(key: str) -> None:
    await record("fails", key)
    raise ValueError("never works")


@jobs.job(timeout=0.5)
async def too_slow(key: str) -> None:
    await record("slow", key)
    await asyncio.sleep(30)


@jobs.job
async def long(key: str, seconds: float) -> str:
    await record("long-start", key)
    await asyncio.sleep(seconds)
    await record("long-end", key)
    return key


@jobs.job
async def later(key: str) -> None:
    await record("later", key)


@jobs.job(every=1)
async def tick() -> None:
    await record("tick", QUEUE)


@jobs.job
async def ship(order_id: int) -> None:
    await record("ship", order_id)


@app.post("/jobs/{name}")
async def enqueue(name: str, key: str = "", a: int = 0, b: int = 0, seconds: float = 0.0, delay: float = 0.0):
    if name == "add":
        handle = await add.enqueue(a, b)
    elif name == "later":
        handle = await later.enqueue_in(delay, key)
    elif name == "long":
        handle = await long.enqueue(key, seconds)
    else:
        job = {"flaky": flaky, "fails": always_fails, "slow": too_slow}[name]
        handle = await job.enqueue(key)
    return {"id": handle.id}


@app.get("/jobs/{job_id}/result")
async def result(job_id: str):
    from covet.jobs import JobHandle

    try:
        return {"result": await JobHandle(job_id, jobs).result(timeout=45)}
    except JobFailed as exc:
        return {"error": exc.error}
    except TimeoutError as exc:  # the test shows this body rather than a bare 500
        raise HTTPException(504, str(exc)) from None


@app.post("/orders")
async def order(item: str, fail: bool = False, session: AsyncSession = Depends(db.session)):
    order_id = (await session.execute(insert(orders).values(item=item).returning(orders.c.id))).scalar_one()
    await ship.enqueue_with(session, order_id)
    if fail:
        raise HTTPException(400, "the order is refused after its job was written")
    return {"id": order_id}
