"""Dependency injection: sub-dependencies, caching, classes, yield clean-up, router/app-level
dependencies and overrides; through TestClient (the real engine, in memory)."""

from __future__ import annotations

from typing import Annotated

import pytest

from covet import APIRouter, Body, Covet, Depends, Form, Header, HTTPException, Query, Request
from covet.exceptions import RequestValidationError
from covet.responses import JSONResponse
from covet.testclient import TestClient


def test_sub_dependencies_and_per_request_cache() -> None:
    app = Covet()
    calls: list[str] = []

    async def settings() -> dict:
        calls.append("settings")
        return {"prefix": "v"}

    def version(s: dict = Depends(settings)) -> str:
        return s["prefix"] + "1"

    def fresh(s: dict = Depends(settings, use_cache=False)) -> str:
        return s["prefix"]

    @app.get("/")
    async def root(v: str = Depends(version), s: dict = Depends(settings), f: str = Depends(fresh)):
        return {"v": v, "f": f}

    client = TestClient(app)
    assert client.get("/").json() == {"v": "v1", "f": "v"}
    assert calls == ["settings", "settings"]  # cached once, plus the use_cache=False call
    calls.clear()
    client.get("/")
    assert len(calls) == 2  # the cache lives for one request only


class Pagination:
    def __init__(self, skip: int = 0, limit: int = 10):
        self.skip, self.limit = skip, limit


def test_class_and_callable_instance_dependencies() -> None:
    app = Covet()

    class Checker:
        def __init__(self, word: str):
            self.word = word

        def __call__(self, q: str = "") -> bool:
            return self.word in q

    has_foo = Checker("foo")

    @app.get("/")
    async def root(page: Annotated[Pagination, Depends()], found: bool = Depends(has_foo)):
        return {"skip": page.skip, "limit": page.limit, "found": found}

    assert TestClient(app).get("/?skip=5&q=xfoox").json() == {"skip": 5, "limit": 10, "found": True}


def test_yield_dependencies_clean_up_after_the_response_and_see_errors() -> None:
    app = Covet()
    events: list[str] = []

    async def async_resource():
        events.append("async open")
        try:
            yield "A"
        except ValueError as exc:
            events.append(f"async saw {exc}")
            raise
        finally:
            events.append("async close")

    def sync_resource():
        events.append("sync open")
        yield "S"
        events.append("sync close")

    @app.get("/ok")
    async def ok(a: str = Depends(async_resource), s: str = Depends(sync_resource)):
        events.append("handler")
        return {"a": a, "s": s}

    @app.get("/fail")
    async def fail(a: str = Depends(async_resource)):
        raise ValueError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/ok").json() == {"a": "A", "s": "S"}
    assert events == ["async open", "sync open", "handler", "sync close", "async close"]
    events.clear()
    assert client.get("/fail").status_code == 500
    assert events == ["async open", "async saw boom", "async close"]


def test_dependency_errors_and_validation_from_dependencies() -> None:
    app = Covet()

    def auth(x_token: Annotated[str, Header()]) -> str:
        if x_token != "ok":
            raise HTTPException(403, "Forbidden")
        return x_token

    @app.get("/")
    async def root(token: str = Depends(auth), n: int = 1):
        return {"token": token, "n": n}

    client = TestClient(app)
    assert client.get("/", headers={"x-token": "ok"}).json() == {"token": "ok", "n": 1}
    assert client.get("/", headers={"x-token": "no"}).status_code == 403
    missing = client.get("/?n=x")
    assert missing.status_code == 422
    locs = [e["loc"] for e in missing.json()["detail"]]
    assert ["header", "x-token"] in locs and ["query", "n"] in locs


def test_router_and_app_level_dependencies_and_overrides() -> None:
    seen: list[str] = []

    def app_dep() -> None:
        seen.append("app")

    def router_dep(request: Request) -> None:
        seen.append("router " + request.url.path)

    def get_db() -> str:
        return "real"

    app = Covet(dependencies=[Depends(app_dep)])
    router = APIRouter(prefix="/items", dependencies=[Depends(router_dep)])

    @router.get("/")
    async def items(db: str = Depends(get_db)):
        return {"db": db}

    app.include_router(router, prefix="/v1")
    client = TestClient(app)
    assert client.get("/v1/items/").json() == {"db": "real"}
    assert seen == ["app", "router /v1/items/"]

    app.dependency_overrides[get_db] = lambda: "fake"
    assert client.get("/v1/items/").json() == {"db": "fake"}
    app.dependency_overrides.clear()
    assert client.get("/v1/items/").json() == {"db": "real"}


def test_custom_validation_error_handler() -> None:
    app = Covet()

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError):
        return JSONResponse({"problems": len(exc.errors())}, status_code=400)

    @app.get("/")
    async def root(a: int, b: int):
        return {}

    assert TestClient(app).get("/?a=x").json() == {"problems": 2}


def test_sync_dependencies_run_in_the_thread_pool() -> None:
    import threading

    app = Covet()

    def where() -> str:
        return threading.current_thread().name

    @app.get("/")
    async def root(name: str = Depends(where)):
        return {"pool": name.startswith("covet-sync")}

    assert TestClient(app).get("/").json() == {"pool": True}


def test_bad_declarations_fail_at_startup() -> None:
    app = Covet()
    with pytest.raises(ValueError, match="in the path"):

        @app.get("/items/{item_id}")
        async def clash(item_id: int = Query()):
            return {}

    with pytest.raises(ValueError, match="Body"):

        @app.post("/mixed")
        async def mixed(a: Annotated[int, Body()], b: Annotated[str, Form()]):
            return {}

    with pytest.raises(ValueError, match="Cannot resolve the annotation 'Missing'"):

        @app.get("/unresolved")
        async def unresolved(x: Missing):  # noqa: F821 - the point of the test
            return {}


def test_app_dependencies_do_not_guard_the_docs_pages() -> None:
    def deny() -> None:
        raise HTTPException(401, "no")

    app = Covet(dependencies=[Depends(deny)])

    @app.get("/private")
    async def private():
        return {}

    client = TestClient(app)
    assert client.get("/private").status_code == 401
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
