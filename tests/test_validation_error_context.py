"""Validation errors name the endpoint that raised them (handler, file, `METHOD /path`), and a
covet app mounted under another one routes and answers its own errors with its own handlers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from covet import Covet, Request, WebSocket, WebSocketDisconnect
from covet.exceptions import RequestValidationError, ResponseValidationError, WebSocketRequestValidationError
from covet.responses import JSONResponse
from covet.testclient import TestClient


class Item(BaseModel):
    id: int


def build() -> tuple[Covet, list[Exception]]:
    seen: list[Exception] = []
    app, sub = Covet(), Covet()

    for target in (app, sub):

        @target.exception_handler(RequestValidationError)
        @target.exception_handler(ResponseValidationError)
        async def record(request: Request, exc: Exception, where: Covet = target) -> JSONResponse:
            seen.append(exc)
            return JSONResponse({"by": "sub" if where is sub else "main"}, status_code=418)

        @target.exception_handler(WebSocketRequestValidationError)
        async def record_ws(websocket: WebSocket, exc: Exception) -> None:
            seen.append(exc)
            await websocket.close(4000, "seen")

    @app.get("/item", response_model=Item)
    def main_item() -> dict[str, Any]:
        return {"name": "no id"}

    @sub.get("/item", response_model=Item)
    def sub_item() -> dict[str, Any]:
        return {"name": "no id"}

    @sub.get("/users/{user_id}")
    def sub_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @sub.websocket("/ws/{n}")
    async def sub_ws(websocket: WebSocket, n: int) -> None:
        await websocket.accept()
        await websocket.send_text(str(n))
        await websocket.close()

    app.mount("/sub", sub)
    return app, seen


def test_response_validation_error_names_the_endpoint() -> None:
    app, seen = build()
    with TestClient(app) as client:
        assert client.get("/item").status_code == 418
    text = str(seen[-1])
    assert isinstance(seen[-1], ResponseValidationError)
    assert "main_item" in text and "GET /item" in text and __file__ in text


def test_mounted_covet_app_routes_and_uses_its_own_handlers() -> None:
    app, seen = build()
    with TestClient(app) as client:
        assert client.get("/sub/users/3").json() == {"user_id": 3}
        response = client.get("/sub/users/x")
        assert (response.status_code, response.json()) == (418, {"by": "sub"})
        assert "sub_user" in str(seen[-1]) and "GET /sub/users/{user_id}" in str(seen[-1])
        response = client.get("/sub/item")
        assert (response.status_code, response.json()) == (418, {"by": "sub"})
        assert "sub_item" in str(seen[-1])


def test_mounted_covet_app_websocket() -> None:
    app, seen = build()
    with TestClient(app) as client:
        with client.websocket_connect("/sub/ws/5") as ws:
            assert ws.receive_text() == "5"
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/sub/ws/x"):
                pass
    assert info.value.code == 4000
    assert isinstance(seen[-1], WebSocketRequestValidationError)
    assert "sub_ws" in str(seen[-1]) and "WS /sub/ws/{n}" in str(seen[-1])
