"""Routers included before their routes are declared, for tests/test_router_include_context.py.

Every route here is added to its router *after* `include_router`: FastAPI serves such routes
("live" inclusion), with the include's prefix and options.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from covet import APIRouter, Covet, Depends, Request, Response
from covet.responses import HTMLResponse, PlainTextResponse
from covet.route_matching import BaseRoute, Match
from covet.routing import Route

ROOT = os.environ.get("COVET_TEST_INCLUSION_DIR") or tempfile.mkdtemp(prefix="covet-inclusion-")
os.environ["COVET_TEST_INCLUSION_DIR"] = ROOT  # the server processes serve the same directory
with open(os.path.join(ROOT, "index.html"), "w") as f:
    f.write("site shell")


def mark_included(response: Response) -> None:
    response.headers["x-included"] = "yes"


def router_dependency(response: Response) -> None:
    response.headers["x-router"] = "yes"


app = Covet()
api = APIRouter(prefix="/items", tags=["router"], dependencies=[Depends(router_dependency)])
parent = APIRouter()
child = APIRouter()
site = APIRouter()

app.include_router(api, prefix="/api", tags=["include"], dependencies=[Depends(mark_included)])
app.include_router(parent, prefix="/v1")
parent.include_router(child, prefix="/child", responses={418: {"description": "Teapot"}})
app.include_router(site, prefix="/site")


@api.get("/{item_id}", tags=["route"], response_class=HTMLResponse)
def read_item(item_id: int, request: Request) -> Any:
    context = request.scope["fastapi"]["effective_route_context"]
    return PlainTextResponse(f"{item_id} {context.path} {','.join(context.tags)} {len(context.dependencies)}")


@child.get("/things")
def read_things() -> list[str]:
    return ["thing"]


site.frontend("/", directory=ROOT, fallback="index.html")


@site.get("/dashboard")
def read_dashboard() -> dict[str, str]:
    return {"source": "api"}


def starlette_endpoint(request: Any) -> PlainTextResponse:
    return PlainTextResponse(f"plain {request.url.path}")


# Starlette's `Route`: the endpoint takes the request.
app.include_router(APIRouter(routes=[Route("/hello", starlette_endpoint, name="hello")]), prefix="/plain")


class TeapotRoute(BaseRoute):
    """A route object of the app's own: asked for paths no compiled route matches."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        return (Match.FULL if scope["path"].startswith("/teapot/") else Match.NONE), {}

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await PlainTextResponse("short and stout", status_code=418)(scope, receive, send)


app.routes.append(TeapotRoute())
