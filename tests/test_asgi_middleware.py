"""Pure ASGI middleware classes in `app.add_middleware`, as Starlette takes them: the app is
served through them on TestClient, covet's server and uvicorn alike."""

from __future__ import annotations

import httpx
import pytest

from covet import Covet, Depends, WebSocket, WebSocketDisconnect
from covet.testclient import TestClient
from tests.conftest import served_three_ways
from tests.test_websockets import ws_connect

client = served_three_ways("tests.apps.asgi_middleware:app", raise_server_exceptions=False)


def test_middleware_adds_a_header(client: httpx.Client) -> None:
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert response.headers["x-asgi"] == "on"
    # Request middleware (BaseHTTPMiddleware) still run, inside the ASGI ones.
    assert response.headers["x-request-mw"] == "yes"


def test_middleware_answers_without_the_handler(client: httpx.Client) -> None:
    response = client.get("/blocked")
    assert response.status_code == 403
    assert response.text == "blocked by middleware"
    assert response.headers["x-asgi"] == "on"


def test_exception_from_middleware_receive_goes_to_the_handlers(client: httpx.Client) -> None:
    assert client.post("/echo", json={"a": 1}).json() == {"a": 1}
    response = client.post("/echo", json={"a": "x" * 100})
    assert response.status_code == 413
    assert response.json() == {"detail": "Body too large"}
    assert response.headers["x-asgi"] == "on"


def test_middleware_that_raises_gives_500_and_keeps_serving(client: httpx.Client) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert client.get("/hello").status_code == 200


def test_websocket_goes_through_the_middleware(client: httpx.Client) -> None:
    with ws_connect(client, "/ws") as ws:
        ws.send_text("there")
        assert ws.receive_text() == "hi there [asgi]"


def test_function_middleware_from_the_declaration_list() -> None:
    """`Covet(middleware=[Middleware(factory)])` with a plain function that builds the ASGI app."""
    from covet.middleware import Middleware

    seen: list[str] = []

    def recorder(inner: object) -> object:
        async def wrapped(scope: dict, receive: object, send: object) -> None:
            seen.append(scope["path"])
            await inner(scope, receive, send)  # type: ignore[operator]

        return wrapped

    app = Covet(middleware=[Middleware(recorder)])

    @app.get("/x")
    def x() -> dict[str, int]:
        return {"x": 1}

    with TestClient(app) as tc:
        assert tc.get("/x").json() == {"x": 1}
    assert seen == ["/x"]


def test_websocket_middleware_catches_the_endpoint_error() -> None:
    """Starlette's `WebSocket(scope, receive, send)` in a middleware, which answers an error
    raised before the handshake was accepted; TestClient does not re-raise it."""

    class CloseOnError:
        def __init__(self, app: object) -> None:
            self.app = app

        async def __call__(self, scope: dict, receive: object, send: object) -> None:
            try:
                await self.app(scope, receive, send)  # type: ignore[operator]
            except Exception as exc:
                if scope["type"] != "websocket":
                    raise
                await WebSocket(scope, receive, send).close(code=4001, reason=repr(exc))

    def broken() -> None:
        raise NotImplementedError("not yet")

    app = Covet()
    app.add_middleware(CloseOnError)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, _: None = Depends(broken)) -> None:
        await websocket.accept()

    with TestClient(app) as tc:
        with pytest.raises(WebSocketDisconnect) as info:
            with tc.websocket_connect("/ws"):
                pass
    assert info.value.code == 4001
    assert "NotImplementedError" in info.value.reason
