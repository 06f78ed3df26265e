"""What every benchmark app shares, so the frameworks differ only in their own code.

The data (the /large payload, the fortunes template), the database access (asyncpg, one
pool of POOL_SIZE connections, the same SQL) and the random row ids are the same for every
framework; routing, parameter parsing, validation, serialisation and the response path are
each framework's own, written the way its users write them.

Standard library only at import time: asyncpg and jinja2 are imported by the functions that
need them, so the non-database endpoints of an app still load where they are missing.
"""

from __future__ import annotations

import os
import random
from typing import Any

# Where the TechEmpower-style tables live (benchmarks/db_setup.py creates them). The suite
# passes the same DSN to every server.
DSN = os.environ.get("COVET_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/test")
# The suite (measure.py) sets COVET_BENCH_DB=0 when it runs no database scenario (PostgreSQL
# unreachable, or none chosen): the apps then open no pool, and their database endpoints answer 500.
DB_ENABLED = os.environ.get("COVET_BENCH_DB", "1") != "0"

# One worker on one pinned core: the Python process can keep only a few queries usefully in
# flight while it parses results and renders responses, and PostgreSQL shares the machine's 2
# cores with wrk. 8 connections keep the server from ever waiting for a free connection at
# -c64 (a query round trip is far shorter than the Python work around it) without giving
# PostgreSQL dozens of backends to context-switch between. Every framework uses this size,
# opened at startup (min = max, so no connection is made during a measured run).
POOL_SIZE = 8

WORLD_ROWS = 10_000
MAX_QUERIES = 500  # TechEmpower's clamp for ?queries= / ?n=

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
SELECT_FORTUNES = "SELECT id, message FROM fortune"
# Every row of one request written back in one statement (ids sorted, so that concurrent
# requests lock rows in the same order and cannot deadlock).
UPDATE_WORLDS = (
    "UPDATE world SET randomnumber = v.randomnumber "
    "FROM (SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS randomnumber) AS v "
    "WHERE world.id = v.id"
)

# TechEmpower's fortunes data set: (id, message). benchmarks/db_setup.py loads it.
FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)
EXTRA_FORTUNE = (0, "Additional fortune added at request time.")

FORTUNES_TEMPLATE = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "{% for id, message in fortunes %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>{% endfor %}"
    "</table></body></html>"
)


def large_payload() -> list[dict[str, Any]]:
    """The /large response: 500 small objects, about 100 KB of compact JSON.

    Integers, ASCII strings and booleans only, so every JSON encoder writes the same bytes
    (benchmarks/hyper-limit builds the same list with the same formula).
    """
    return [
        {
            "id": i,
            "name": f"item-{i:04d}",
            "category": f"category-{i % 7}",
            "price_cents": (i * 7919) % 100_000,
            "in_stock": i % 3 != 0,
            "tags": [f"tag-{i % 5}", f"tag-{i % 11}", f"tag-{i % 13}"],
            "description": f"Deterministic sample object number {i:04d} for the large response.",
        }
        for i in range(1, 501)
    ]


LARGE = large_payload()


def make_rng() -> random.Random:
    """A seeded generator owned by the calling process (each server is its own process)."""
    return random.Random(0xC0FE7)


def clamp_queries(n: int | None) -> int:
    """TechEmpower's rule for the row count: 1 to MAX_QUERIES."""
    if n is None:
        return 1
    return min(max(n, 1), MAX_QUERIES)


async def create_pool() -> Any:
    """The asyncpg pool every app opens at startup (POOL_SIZE connections, all opened now).

    None when the database is disabled (see DB_ENABLED).
    """
    if not DB_ENABLED:
        return None
    import asyncpg

    return await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)


async def close_pool(pool: Any) -> None:
    """Close what create_pool returned."""
    if pool is not None:
        await pool.close()


async def random_world(pool: Any, rng: random.Random) -> dict[str, int]:
    """One random row of `world`, as {"id", "randomNumber"} (TechEmpower's keys)."""
    async with pool.acquire() as conn:
        row_id, number = await conn.fetchrow(SELECT_WORLD, rng.randint(1, WORLD_ROWS))
    return {"id": row_id, "randomNumber": number}


async def random_worlds(pool: Any, rng: random.Random, count: int) -> list[dict[str, int]]:
    """`count` random rows, one query each, on one connection (TechEmpower's 'queries')."""
    ids = rng.sample(range(1, WORLD_ROWS + 1), count)
    async with pool.acquire() as conn:
        stmt = await conn.prepare(SELECT_WORLD)
        rows = [await stmt.fetchrow(i) for i in ids]
    return [{"id": row_id, "randomNumber": number} for row_id, number in rows]


async def update_worlds(pool: Any, rng: random.Random, count: int) -> list[dict[str, int]]:
    """`count` random rows read one by one, given new numbers, written back in one UPDATE."""
    ids = sorted(rng.sample(range(1, WORLD_ROWS + 1), count))
    numbers = [rng.randint(1, WORLD_ROWS) for _ in ids]
    async with pool.acquire() as conn:
        stmt = await conn.prepare(SELECT_WORLD)
        for i in ids:
            await stmt.fetchval(i)  # read each row, as the test requires
        await conn.execute(UPDATE_WORLDS, ids, numbers)
    return [{"id": i, "randomNumber": n} for i, n in zip(ids, numbers, strict=True)]


async def fortunes(pool: Any) -> list[tuple[int, str]]:
    """All fortunes plus the one added at request time, sorted by message."""
    async with pool.acquire() as conn:
        rows = [tuple(r) for r in await conn.fetch(SELECT_FORTUNES)]
    rows.append(EXTRA_FORTUNE)
    rows.sort(key=lambda r: r[1])
    return rows


def fortunes_template() -> Any:
    """The fortunes page as a Jinja2 template, HTML-escaping every value."""
    import jinja2

    return jinja2.Environment(autoescape=True).from_string(FORTUNES_TEMPLATE)
