"""Starlette app: the same endpoints with Starlette's own routing and responses.

Starlette has no parameter or body validation of its own, so the app converts the path and
query values itself and validates the body with pydantic, as a Starlette user does.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from benchmarks.apps import common

db: dict[str, Any] = {}
rng = common.make_rng()
template = common.fortunes_template()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


async def json_endpoint(_request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def plaintext(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def user(request: Request) -> JSONResponse:
    return JSONResponse({"uid": request.path_params["uid"], "q": request.query_params.get("q")})


async def create_item(request: Request) -> JSONResponse:
    item = Item.model_validate_json(await request.body())
    return JSONResponse({"id": request.path_params["item_id"], **item.model_dump()})


async def large(_request: Request) -> JSONResponse:
    return JSONResponse(common.LARGE)


def _count(request: Request) -> int:
    try:
        return common.clamp_queries(int(request.query_params.get("n", "1")))
    except ValueError:
        return 1


async def single_query(_request: Request) -> JSONResponse:
    return JSONResponse(await common.random_world(db["pool"], rng))


async def queries(request: Request) -> JSONResponse:
    return JSONResponse(await common.random_worlds(db["pool"], rng, _count(request)))


async def fortunes(_request: Request) -> HTMLResponse:
    rows = await common.fortunes(db["pool"])
    return HTMLResponse(template.render(fortunes=rows))


async def updates(request: Request) -> JSONResponse:
    return JSONResponse(await common.update_worlds(db["pool"], rng, _count(request)))


async def http_error(_request: Request, exc: Exception) -> Response:
    """FastAPI's error shape, {"detail": ...}, which the other apps answer."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    db["pool"] = await common.create_pool()
    yield
    await common.close_pool(db.pop("pool"))


app = Starlette(
    routes=[
        Route("/json", json_endpoint),
        Route("/plaintext", plaintext),
        Route("/users/{uid:int}", user),
        Route("/items/{item_id:int}", create_item, methods=["POST"]),
        Route("/large", large),
        Route("/db", single_query),
        Route("/queries", queries),
        Route("/fortunes", fortunes),
        Route("/updates", updates),
    ],
    exception_handlers={HTTPException: http_error},
    lifespan=lifespan,
)
if os.environ.get("BENCH_STATIC_DIR"):  # the static scenarios (benchmarks/static.py)
    from starlette.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=os.environ["BENCH_STATIC_DIR"]))
