"""Litestar app: the same endpoints with Litestar's handlers, typed parameters and DTO-free
pydantic body (Litestar's built-in pydantic plugin validates it)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.exceptions import NotFoundException
from pydantic import BaseModel

from benchmarks.apps import common

db: dict[str, Any] = {}
rng = common.make_rng()
template = common.fortunes_template()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/users/{uid:int}")
async def user(uid: int, q: str | None = None) -> dict[str, int | str | None]:
    return {"uid": uid, "q": q}


@post("/items/{item_id:int}", status_code=200)
async def create_item(item_id: int, data: Item) -> dict[str, object]:
    return {"id": item_id, **data.model_dump()}


@get("/large")
async def large() -> list[dict[str, Any]]:
    return common.LARGE


@get("/db")
async def single_query() -> dict[str, int]:
    return await common.random_world(db["pool"], rng)


@get("/queries")
async def queries(n: int = 1) -> list[dict[str, int]]:
    return await common.random_worlds(db["pool"], rng, common.clamp_queries(n))


@get("/fortunes", media_type=MediaType.HTML)
async def fortunes() -> str:
    rows = await common.fortunes(db["pool"])
    return template.render(fortunes=rows)


@get("/updates")
async def updates(n: int = 1) -> list[dict[str, int]]:
    return await common.update_worlds(db["pool"], rng, common.clamp_queries(n))


def not_found(_request: Request[Any, Any, Any], _exc: NotFoundException) -> Response[dict[str, str]]:
    """FastAPI's error shape, {"detail": "Not Found"}, which the other apps answer."""
    return Response({"detail": "Not Found"}, status_code=404)


@asynccontextmanager
async def lifespan(_app: Litestar) -> AsyncIterator[None]:
    db["pool"] = await common.create_pool()
    yield
    await common.close_pool(db.pop("pool"))


app = Litestar(
    route_handlers=[
        json_endpoint,
        plaintext,
        user,
        create_item,
        large,
        single_query,
        queries,
        fortunes,
        updates,
    ],
    exception_handlers={NotFoundException: not_found},
    lifespan=[lifespan],
    openapi_config=None,
)
