"""An app using FastAPI's application and router options, served three ways by
tests/test_app_options.py: content-type strictness at app, router and route level, a HEAD route
of its own beside a GET route, and `scope["route"]`."""

from __future__ import annotations

from typing import Any

from covet import APIRouter, Covet, Request
from covet.responses import JSONResponse

app = Covet()  # strict_content_type=True, FastAPI's default

lax = APIRouter(prefix="/lax", strict_content_type=False)


@app.post("/strict")
async def strict_body(data: dict[str, Any]) -> dict[str, Any]:
    return data


@lax.post("/items")
async def lax_body(data: dict[str, Any]) -> dict[str, Any]:
    return data


@lax.post("/strict-route", strict_content_type=True)
async def strict_route_in_lax_router(data: dict[str, Any]) -> dict[str, Any]:
    return data


app.include_router(lax)


@app.get("/things/{thing_id}")
async def get_thing(thing_id: str) -> dict[str, str]:
    return {"thing_id": thing_id}


@app.head("/things/{thing_id}")
async def head_thing(thing_id: str) -> JSONResponse:
    return JSONResponse(None, headers={"x-thing-id": thing_id})


@app.get("/route-of/{name}")
async def route_of(name: str, request: Request) -> dict[str, Any]:
    route = request.scope["route"]
    return {"path": route.path, "name": route.name}


@app.get("/where")
async def where(request: Request) -> dict[str, str]:
    return {"root_path": request.scope["root_path"], "url_for": str(request.url_for("where"))}
