"""FastAPI's router options: `route_class`, `generate_unique_id_function` and its precedence,
`default_response_class` through `include_router`, OpenAPI `callbacks`, the startup/shutdown
hooks and lifespans an included router brings to the app, and the include mistakes refused."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from covet import APIRouter, Covet, Request
from covet.exceptions import FastAPIError
from covet.responses import HTMLResponse, PlainTextResponse
from covet.routing import APIRoute
from covet.testclient import TestClient


def _ids(app: Covet) -> dict[str, str]:
    doc = TestClient(app).get("/openapi.json").json()
    return {path: op["operationId"] for path, item in doc["paths"].items() for op in item.values()}


def test_unique_id_functions_by_precedence() -> None:
    app = Covet(generate_unique_id_function=lambda r: f"app_{r.name}")
    plain = APIRouter()
    own = APIRouter(generate_unique_id_function=lambda r: f"router_{r.name}")

    @plain.get("/plain")
    def plain_op() -> None: ...

    @plain.get("/route-level", generate_unique_id_function=lambda r: f"route_{r.name}")
    def route_op() -> None: ...

    @own.get("/own")
    def own_op() -> None: ...

    included = APIRouter()

    @included.get("/included")
    def included_op() -> None: ...

    @app.get("/top")
    def top_op() -> None: ...

    app.include_router(plain)
    app.include_router(own, generate_unique_id_function=lambda r: f"include_{r.name}")
    app.include_router(included, generate_unique_id_function=lambda r: f"include_{r.name}")
    assert _ids(app) == {
        "/top": "app_top_op",
        "/plain": "app_plain_op",
        "/route-level": "route_route_op",
        "/own": "router_own_op",
        "/included": "include_included_op",
    }


def test_route_class_is_kept_through_include() -> None:
    class TimedRoute(APIRoute):
        kind = "timed"

    router = APIRouter(route_class=TimedRoute)
    router.get("/t")(lambda: {"ok": True})
    app = Covet()
    app.include_router(router, prefix="/p")
    route = next(r for r in app.served_routes if getattr(r, "path", "") == "/p/t")
    assert isinstance(route, TimedRoute)
    assert TestClient(app).get("/p/t").json() == {"ok": True}


def test_default_response_class_precedence() -> None:
    app = Covet()
    router = APIRouter()
    html_router = APIRouter(default_response_class=HTMLResponse)
    router.get("/default")(lambda: "hi")
    html_router.get("/html")(lambda: "hi")
    html_router.get("/route", response_class=PlainTextResponse)(lambda: "hi")
    app.include_router(router, prefix="/a", default_response_class=PlainTextResponse)
    app.include_router(html_router, prefix="/b", default_response_class=PlainTextResponse)
    c = TestClient(app)
    assert c.get("/a/default").headers["content-type"].startswith("text/plain")
    assert c.get("/b/html").headers["content-type"].startswith("text/html")
    assert c.get("/b/route").headers["content-type"].startswith("text/plain")


class Event(BaseModel):
    description: str
    paid: bool


def test_callbacks_are_documented_with_runtime_expression_paths() -> None:
    callbacks = APIRouter()

    @callbacks.post("{$request.body.callback_url}/events/{$request.body.id}")
    def event_notification(body: Event) -> None: ...

    app = Covet()

    @app.post("/invoices", callbacks=callbacks.routes)
    def create_invoice(invoice: dict[str, Any]) -> dict[str, str]:
        return {"msg": "ok"}

    doc = TestClient(app).get("/openapi.json").json()
    cb = doc["paths"]["/invoices"]["post"]["callbacks"]
    path = "{$request.body.callback_url}/events/{$request.body.id}"
    op = cb["event_notification"][path]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Event"}
    assert "Event" in doc["components"]["schemas"]
    assert path not in doc["paths"]


def test_router_events_and_lifespans_run_with_the_app() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def app_lifespan(app: Covet) -> AsyncIterator[dict[str, str]]:
        events.append("app up")
        yield {"who": "app", "app": "yes"}
        events.append("app down")

    @contextlib.asynccontextmanager
    async def sub_lifespan(app: Covet) -> AsyncIterator[dict[str, str]]:
        events.append("sub up")
        yield {"who": "sub", "sub": "yes"}
        events.append("sub down")

    sub = APIRouter(lifespan=sub_lifespan, on_shutdown=[lambda: events.append("sub shutdown")])

    @sub.on_event("startup")
    def sub_startup() -> None:
        events.append("sub startup")

    router = APIRouter()
    router.include_router(sub)
    app = Covet(lifespan=app_lifespan)
    app.include_router(router)

    @app.get("/")
    def read(request: Request) -> dict[str, str]:
        return {"who": request.state.who, "sub": request.state.sub}

    with TestClient(app) as c:
        assert events == ["sub startup", "app up", "sub up"]
        assert c.app_state == {"who": "app", "app": "yes", "sub": "yes"}
        assert c.get("/").json() == {"who": "app", "sub": "yes"}
    assert events[3:] == ["sub down", "app down", "sub shutdown"]


def test_include_mistakes_are_refused() -> None:
    router = APIRouter()
    with pytest.raises(AssertionError, match="into itself"):
        router.include_router(router)
    router.get("")(lambda: ["ok"])
    app = Covet()
    with pytest.raises(FastAPIError):
        app.include_router(router)
    app.include_router(router, prefix="/prefix")
    assert TestClient(app).get("/prefix").json() == ["ok"]


def test_a_route_class_can_wrap_the_route_handler() -> None:
    class TimedRoute(APIRoute):
        def get_route_handler(self) -> Any:
            original = super().get_route_handler()

            async def timed(request: Request) -> Any:
                response = await original(request)
                response.headers["x-route"] = f"{request.method} {self.path}"
                return response

            return timed

    router = APIRouter(route_class=TimedRoute)

    @router.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    app = Covet()
    app.include_router(router, prefix="/v1")
    r = TestClient(app).get("/v1/items/3")
    assert r.json() == {"item_id": 3}
    assert r.headers["x-route"] == "GET /v1/items/{item_id}"
    assert TestClient(app).get("/v1/items/x").status_code == 422
