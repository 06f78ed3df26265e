"""App-level behaviour through TestClient (the real engine, in memory): lifecycle, middleware,
exception handlers, debug pages and route table errors."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import httpx
import pytest

from covet import APIRouter, BackgroundTasks, Covet, HTTPException, Request
from covet.responses import JSONResponse, PlainTextResponse, Response
from covet.testclient import TestClient


def test_lifespan_and_startup_hooks_run_in_order() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Covet):
        events.append("enter")
        yield {"db": "connected"}
        events.append("exit")

    app = Covet(lifespan=lifespan, on_startup=[lambda: events.append("startup")])

    @app.on_event("shutdown")
    async def bye() -> None:
        events.append("shutdown")

    @app.get("/")
    async def root(request: Request):
        return {"db": request.app.state.db}

    with TestClient(app) as client:
        assert client.get("/").json() == {"db": "connected"}
        assert events == ["startup", "enter"]
    assert events == ["startup", "enter", "exit", "shutdown"]


def test_http_middleware_wraps_every_request_in_order() -> None:
    # As in Starlette and FastAPI, the middleware declared last is the outermost.
    app = Covet()
    seen: list[str] = []

    @app.middleware("http")
    async def inner(request: Request, call_next):
        seen.append("inner")
        request.state.user = "ada"
        return await call_next(request)

    @app.middleware("http")
    async def outer(request: Request, call_next):
        seen.append("outer")
        response = await call_next(request)
        response.headers["x-outer"] = "1"
        return response

    @app.get("/")
    async def root(request: Request):
        return {"user": request.state.user}

    client = TestClient(app)
    response = client.get("/")
    assert response.json() == {"user": "ada"}
    assert response.headers["x-outer"] == "1"
    assert seen == ["outer", "inner"]
    # 404s pass through middleware too.
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.headers["x-outer"] == "1"


def test_middleware_can_answer_without_calling_the_handler() -> None:
    app = Covet()

    @app.middleware("http")
    async def gate(request: Request, call_next):
        if request.headers.get("x-token") != "secret":
            return JSONResponse({"detail": "no"}, status_code=401)
        return await call_next(request)

    @app.get("/")
    async def root():
        return {"ok": True}

    client = TestClient(app)
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"x-token": "secret"}).json() == {"ok": True}


def test_custom_404_and_status_handlers() -> None:
    app = Covet()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"nothing at {request.path}", status_code=404)

    @app.get("/")
    async def root():
        return {}

    client = TestClient(app)
    assert client.get("/gone").text == "nothing at /gone"


def test_exception_handler_for_500_and_exception_classes() -> None:
    app = Covet()

    class Boom(Exception):
        pass

    @app.exception_handler(Exception)
    async def any_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": type(exc).__name__}, status_code=500)

    @app.get("/boom")
    async def boom():
        raise Boom()

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/boom").json() == {"error": "Boom"}


def test_unhandled_errors_are_logged_and_reraised_by_the_test_client(caplog: pytest.LogCaptureFixture) -> None:
    app = Covet()

    @app.get("/boom")
    async def boom():
        raise ValueError("details")

    with pytest.raises(ValueError, match="details"):
        TestClient(app).get("/boom")
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert any("ValueError: details" in r.exc_text for r in caplog.records if r.exc_text)


def test_debug_page_only_in_debug_mode() -> None:
    app = Covet(debug=True)

    @app.get("/boom")
    async def boom():
        raise ValueError("visible in debug")

    client = TestClient(app, raise_server_exceptions=False)
    html = client.get("/boom", headers={"accept": "text/html"})
    assert html.status_code == 500
    assert html.headers["content-type"].startswith("text/html")
    assert "visible in debug" in html.text
    assert "ValueError" in client.get("/boom").text


def test_http_exception_headers_and_empty_statuses() -> None:
    app = Covet()

    @app.get("/auth")
    async def auth():
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/not-modified")
    async def not_modified():
        raise HTTPException(304)

    client = TestClient(app)
    r = client.get("/auth")
    assert r.status_code == 401
    assert r.json() == {"detail": "Not authenticated"}
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.get("/not-modified")
    assert r.status_code == 304
    assert r.content == b""


def test_conflicting_routes_are_reported_at_startup() -> None:
    app = Covet()

    @app.get("/users/{id}")
    async def one():
        return {}

    @app.get("/users/{user_id}")
    async def two():
        return {}

    with pytest.raises(ValueError, match=r"/users/\{user_id\}.*conflicts with.*/users/\{id\}"):
        with TestClient(app):
            pass


def test_bad_route_patterns_are_refused() -> None:
    app = Covet()

    @app.get("/x/{n:nope}")
    async def x():
        return {}

    with pytest.raises(ValueError, match="nope"):
        app.url_path_for("x")


def test_router_prefix_and_url_path_for() -> None:
    app = Covet()
    router = APIRouter(prefix="/v1")

    @router.get("/items/{item_id:int}", name="item")
    async def item(item_id: int):
        return {"item_id": item_id}

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/v1/items/3").json() == {"item_id": 3}
    assert app.url_path_for("item", item_id=3) == "/v1/items/3"
    with pytest.raises(ValueError, match="item_id"):
        app.url_path_for("item")
    with pytest.raises(ValueError):
        app.url_path_for("item", item_id="abc")


def test_first_registered_route_wins() -> None:
    app = Covet()

    @app.get("/users/me")
    async def me():
        return {"who": "me"}

    @app.get("/users/{name}")
    async def named(name: str):
        return {"who": name}

    client = TestClient(app)
    assert client.get("/users/me").json() == {"who": "me"}
    assert client.get("/users/bob").json() == {"who": "bob"}


def test_redirect_slashes_can_be_turned_off() -> None:
    app = Covet(redirect_slashes=False)

    @app.get("/a")
    async def a():
        return {}

    assert TestClient(app).get("/a/", follow_redirects=False).status_code == 404


def test_handlers_that_await_run_as_tasks() -> None:
    import asyncio

    app = Covet()

    @app.get("/task")
    async def task():
        await asyncio.sleep(0)
        return {"in_task": asyncio.current_task() is not None}

    assert TestClient(app).get("/task").json() == {"in_task": True}


def test_awaiting_handlers_the_engine_starts_answer_as_python_would() -> None:
    """A simple `async def` that awaits runs as a Task the engine starts and writes itself;
    its response model, errors, exception handlers and responses must still apply."""
    import asyncio

    from pydantic import BaseModel

    class Out(BaseModel):
        n: int

    class Teapot(Exception):
        pass

    app = Covet()

    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> Response:
        return PlainTextResponse("short and stout", status_code=418)

    @app.get("/model/{n}", response_model=Out)
    async def model(n: int):
        await asyncio.sleep(0)
        return {"n": n, "dropped": True}

    @app.get("/fail")
    async def fail(kind: str):
        await asyncio.sleep(0)
        if kind == "http":
            raise HTTPException(409, "taken", headers={"x-why": "dup"})
        if kind == "teapot":
            raise Teapot()
        if kind == "cancel":
            raise asyncio.CancelledError()
        raise ValueError("boom")

    @app.get("/response")
    async def response():
        await asyncio.sleep(0)
        return JSONResponse({"made": "by hand"}, status_code=202, headers={"x-kind": "json"})

    @app.get("/text", response_class=PlainTextResponse)
    async def text():
        await asyncio.sleep(0)
        return "plain"

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/model/3").json() == {"n": 3}
        assert client.get("/model/x").status_code == 422
        r = client.get("/fail", params={"kind": "http"})
        assert (r.status_code, r.json(), r.headers["x-why"]) == (409, {"detail": "taken"}, "dup")
        r = client.get("/fail", params={"kind": "teapot"})
        assert (r.status_code, r.text) == (418, "short and stout")
        assert client.get("/fail", params={"kind": "boom"}).status_code == 500
        r = client.get("/response")
        assert (r.status_code, r.json(), r.headers["x-kind"]) == (202, {"made": "by hand"}, "json")
        assert client.get("/text").text == "plain"
        assert client.get("/fail").status_code == 422  # the missing query parameter
        with pytest.raises(httpx.RemoteProtocolError):  # a cancelled Task has no answer: closed
            client.get("/fail", params={"kind": "cancel"})
        assert client.get("/model/4").json() == {"n": 4}  # and the app still serves


def test_background_tasks_parameter() -> None:
    app = Covet()
    log: list[str] = []

    @app.post("/signup")
    async def signup(tasks: BackgroundTasks):
        tasks.add_task(log.append, "welcome mail")
        return {"ok": True}

    assert TestClient(app).post("/signup").json() == {"ok": True}
    assert log == ["welcome mail"]


def test_uuid_params_are_uuids_and_names_may_repeat() -> None:
    app = Covet()
    first, second = APIRouter(prefix="/a"), APIRouter(prefix="/b")

    @first.get("/{u:uuid}")
    async def show(u: uuid.UUID):
        return {"type": type(u).__name__, "u": u}

    @second.get("/{u:uuid}")
    async def show(u: uuid.UUID):  # noqa: F811 - same name in another router, as FastAPI allows
        return {"router": "b"}

    app.include_router(first)
    app.include_router(second)
    value = "123E4567-E89B-12D3-A456-426614174000"
    client = TestClient(app)
    assert client.get(f"/a/{value}").json() == {"type": "UUID", "u": value.lower()}
    assert client.get(f"/b/{value}").json() == {"router": "b"}
    assert app.url_path_for("show", u=value.lower()) == f"/a/{value.lower()}"


def test_query_parsing_errors_use_fastapi_messages() -> None:
    app = Covet()

    @app.get("/")
    async def root(n: int, x: float = 1.0, b: bool = False):
        return {}

    detail = TestClient(app).get("/?n=a&x=b&b=maybe").json()["detail"]
    assert [(e["type"], e["loc"]) for e in detail] == [
        ("int_parsing", ["query", "n"]),
        ("float_parsing", ["query", "x"]),
        ("bool_parsing", ["query", "b"]),
    ]
    assert detail[0]["msg"] == "Input should be a valid integer, unable to parse string as an integer"
    missing = TestClient(app).get("/").json()["detail"]
    assert missing == [{"type": "missing", "loc": ["query", "n"], "msg": "Field required", "input": None}]


def test_add_middleware_and_constructor_middleware_take_classes_with_options() -> None:
    from covet.middleware import BaseHTTPMiddleware, Middleware

    class Tag(BaseHTTPMiddleware):
        def __init__(self, app, name: str) -> None:
            super().__init__(app)
            self.name = name

        async def dispatch(self, request: Request, call_next):
            response = await call_next(request)
            response.headers.append("x-tag", self.name)
            return response

    app = Covet(middleware=[Middleware(Tag, name="declared")])
    app.add_middleware(Tag, name="added")

    @app.get("/")
    async def root():
        return {}

    response = TestClient(app).get("/")
    # The one added last is outermost, so it appends its header last.
    assert response.headers.get_list("x-tag") == ["declared", "added"]
