"""covet app: the peers' endpoints, written exactly as the FastAPI app is (changed imports).

The bytes on the wire must match the other apps exactly, so the comparison is like
for like. The database endpoints use covet.db, as a covet user would: one `Database` with the
asyncpg driver and a pool the peers' size (POOL_SIZE connections, opened at startup, no
overflow), and the peers' SQL (the same bytes reach PostgreSQL) prepared once (`db.prepare`, text
with `:name` parameters) run on the connections `db.connection()` hands out, the lean path
covet.db offers for hot reads; it loads no SQLAlchemy, as the peers load none. /queries and
/updates still run one SELECT per row, but `fetch_each` pipelines them (asyncpg's fetchmany:
one round trip for the n executions) where the peers wait for each in turn. The fortunes
template is the peers' template compiled by covet.templating's Environment (a jinja2.Environment whose
autoescaping runs in the engine), as a covet user's `Jinja2Templates` would compile it.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel

from benchmarks.apps import common
from covet import Covet
from covet.db import Database
from covet.db.statements import PreparedStatement
from covet.responses import HTMLResponse, PlainTextResponse
from covet.templating import Environment

rng = common.make_rng()
template = Environment(autoescape=True).from_string(common.FORTUNES_TEMPLATE)
# No pre-ping: the peers' asyncpg pools do not check a connection before each use either.
db = Database(common.DSN, pool_size=common.POOL_SIZE, max_overflow=0, pool_pre_ping=False)
queries_: dict[str, PreparedStatement] = {}
# The peers' SQL (common.py) with named parameters.
SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = :id"
UPDATE_WORLDS = (
    "UPDATE world SET randomnumber = v.randomnumber "
    "FROM (SELECT unnest(:ids::int[]) AS id, unnest(:numbers::int[]) AS randomnumber) AS v "
    "WHERE world.id = v.id"
)


@asynccontextmanager
async def lifespan(_app: Covet) -> AsyncIterator[None]:
    """Open the pool's connections at startup (as the peers' min_size = max_size); compile the
    statements once."""
    if common.DB_ENABLED:
        await db.warm()
        queries_["world"] = db.prepare(SELECT_WORLD)
        queries_["fortunes"] = db.prepare(common.SELECT_FORTUNES)
        queries_["update"] = db.prepare(UPDATE_WORLDS)
    yield


app = Covet(lifespan=lifespan)
if os.environ.get("BENCH_STATIC_DIR"):  # the static scenarios (benchmarks/static.py)
    from covet.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=os.environ["BENCH_STATIC_DIR"]))
if common.DB_ENABLED:
    db.init_app(app)

if os.environ.get("COVET_BENCH_MIDDLEWARE"):
    # Opt-in (`covet+mw` in benchmarks/servers.py): the engine middleware's cost (responses then
    # carry more headers than the peers').
    from covet.middleware.cors import CORSMiddleware
    from covet.middleware.security import SecurityHeadersMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_methods=["GET", "POST"])
    app.add_middleware(SecurityHeadersMiddleware)
    from covet.ratelimit import RateLimitMiddleware

    # Per client address, in the engine; high enough that a benchmark run is never refused.
    app.add_middleware(RateLimitMiddleware, rate="1000000000/minute")

if os.environ.get("COVET_BENCH_METRICS"):
    # Opt-in (`covet+metrics` in benchmarks/servers.py): the engine metrics' cost per request.
    from covet.metrics import instrument

    instrument(app)

if os.environ.get("COVET_BENCH_LOGS"):
    # Opt-in (`covet+logs`): request ids and a JSON access line per request (to /dev/null),
    # the cost of covet.logs.request_logging (the engine formats and writes both itself: one
    # handler with covet.logs' formatter is a configuration it stands in for).
    import logging

    from covet.logs import JSONFormatter, RequestContextFilter, request_logging

    access = logging.getLogger("covet.access")
    sink = logging.FileHandler(os.devnull)
    sink.setFormatter(JSONFormatter())
    sink.addFilter(RequestContextFilter())
    access.addHandler(sink)
    access.setLevel(logging.INFO)
    access.propagate = False
    request_logging(app)


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    """Serialise a small dict: measures routing plus the default JSON response path."""
    return {"message": "Hello, World!"}


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    """Return raw text (the `response_class` idiom): measures the framework without JSON."""
    return "Hello, World!"


@app.get("/users/{uid:int}")
async def user(uid: int, q: str | None = None) -> dict[str, int | str | None]:
    """Typed path and query parameters: measures parameter parsing and validation."""
    return {"uid": uid, "q": q}


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.post("/items/{item_id}")
async def create_item(item_id: int, item: Item) -> dict[str, object]:
    """A pydantic body validated from the raw bytes: measures body parsing and validation."""
    return {"id": item_id, **item.model_dump()}


@app.get("/large")
async def large() -> list[dict[str, Any]]:
    """A 100 KB JSON list of 500 objects: measures the serialiser on a big response."""
    return common.LARGE


@app.get("/db")
async def single_query() -> dict[str, int]:
    """One random row of `world`."""
    async with db.connection() as conn:
        row_id, number = await queries_["world"].fetch_one(conn, id=rng.randint(1, common.WORLD_ROWS))
    return {"id": row_id, "randomNumber": number}


@app.get("/queries")
async def queries(n: int = 1) -> list[dict[str, int]]:
    """`n` random rows of `world`, one query each."""
    ids = rng.sample(range(1, common.WORLD_ROWS + 1), common.clamp_queries(n))
    async with db.connection() as conn:
        rows = await queries_["world"].fetch_each(conn, [{"id": i} for i in ids])
    return [{"id": row_id, "randomNumber": number} for row_id, number in rows]


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes() -> HTMLResponse:
    """All fortunes plus one, sorted, rendered by Jinja2 with HTML escaping."""
    async with db.connection() as conn:
        rows = [tuple(r) for r in await queries_["fortunes"].fetch_all(conn)]
    rows.append(common.EXTRA_FORTUNE)
    rows.sort(key=lambda r: r[1])
    return HTMLResponse(template.render(fortunes=rows))


@app.get("/updates")
async def updates(n: int = 1) -> list[dict[str, int]]:
    """`n` random rows given new random numbers, written back in one statement."""
    count = common.clamp_queries(n)
    ids = sorted(rng.sample(range(1, common.WORLD_ROWS + 1), count))
    numbers = [rng.randint(1, common.WORLD_ROWS) for _ in ids]
    async with db.connection() as conn:
        await queries_["world"].fetch_each(conn, [{"id": i} for i in ids])  # read each row, as the test requires
        await queries_["update"].execute(conn, ids=ids, numbers=numbers)
    return [{"id": i, "randomNumber": v} for i, v in zip(ids, numbers, strict=True)]
