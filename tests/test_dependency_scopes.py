"""`Depends(scope=...)` and the order `yield` dependencies leave in, as FastAPI: function-scoped
ones when the handler returns (before a streaming body is produced), request-scoped ones after
the response; a handler's exception reaches them before it is answered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import httpx
import pytest

from covet import Covet, Depends, WebSocket
from covet.exceptions import FastAPIError
from covet.testclient import TestClient
from tests.apps.streams import FunctionSession, RequestSession, Session
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.streams:app")


def test_function_scope_is_closed_before_the_stream_runs(client: httpx.Client) -> None:
    # The same dependency in both scopes gives two instances; the default scope is "request"
    # and shares the request-scoped one.
    assert client.get("/scopes").json() == {"function": False, "request": True, "shared": True}
    assert client.get("/scopes-response").text == "False True"


def test_function_scope_cleanup_error_is_answered(client: httpx.Client) -> None:
    response = client.get("/function-cleanup-fails")
    assert response.status_code == 503
    assert response.json() == {"detail": "cleaned up badly"}


def test_dependency_translates_the_handler_exception(client: httpx.Client) -> None:
    response = client.get("/translated")
    assert response.status_code == 418
    assert response.json() == {"detail": "translated by the dependency"}


def wraps(inner: FunctionSession) -> Iterator[Session]:
    yield inner


def plain(inner: FunctionSession) -> Session:
    return inner


def test_request_scope_on_function_scope_is_refused_at_startup() -> None:
    app = Covet()
    with pytest.raises(FastAPIError, match='"wraps" has a scope of "request"'):
        app.get("/broken")(lambda s=Depends(wraps): None)
    # A plain (non-`yield`) dependency may use a function-scoped one.
    app.get("/fine")(lambda s=Depends(plain): None)
    with pytest.raises(ValueError, match="scope"):
        Depends(plain, scope="session")


ORDER: list[str] = []


def function_dep() -> Iterator[str]:
    yield "function"
    ORDER.append("function")


def request_dep() -> Iterator[str]:
    yield "request"
    ORDER.append("request")


def test_websocket_function_scope_leaves_before_request_scope() -> None:
    app = Covet()

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        f: Annotated[str, Depends(function_dep, scope="function")],
        r: Annotated[str, Depends(request_dep)],
        s: RequestSession,
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"f": f, "r": r, "open": s.open})

    ORDER.clear()
    with TestClient(app) as tc, tc.websocket_connect("/ws") as conn:
        assert conn.receive_json() == {"f": "function", "r": "request", "open": True}
    assert ORDER == ["function", "request"]
