"""covet app with asyncpg used directly (the like-for-like line): the database endpoints use
covet's lifespan and `common`'s asyncpg pool and SQL, exactly as the FastAPI app does.
`covet_app.py` is the same app on covet.db, the way covet's users write it.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel

from benchmarks.apps import common
from covet import Covet
from covet.responses import HTMLResponse, PlainTextResponse

db: dict[str, Any] = {}
rng = common.make_rng()
template = common.fortunes_template()


@asynccontextmanager
async def lifespan(_app: Covet) -> AsyncIterator[None]:
    """Open the database pool at startup, close it at shutdown."""
    db["pool"] = await common.create_pool()
    yield
    await common.close_pool(db.pop("pool"))


app = Covet(lifespan=lifespan)


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
    return await common.random_world(db["pool"], rng)


@app.get("/queries")
async def queries(n: int = 1) -> list[dict[str, int]]:
    """`n` random rows of `world`, one query each."""
    return await common.random_worlds(db["pool"], rng, common.clamp_queries(n))


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes() -> HTMLResponse:
    """All fortunes plus one, sorted, rendered by Jinja2 with HTML escaping."""
    rows = await common.fortunes(db["pool"])
    return HTMLResponse(template.render(fortunes=rows))


@app.get("/updates")
async def updates(n: int = 1) -> list[dict[str, int]]:
    """`n` random rows given new random numbers, written back in one statement."""
    return await common.update_worlds(db["pool"], rng, common.clamp_queries(n))
