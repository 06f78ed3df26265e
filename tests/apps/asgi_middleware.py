"""An app with pure ASGI middleware (Starlette's kind), for tests/test_asgi_middleware.py."""

from __future__ import annotations

from typing import Any

from covet import Covet, HTTPException, WebSocket
from covet.middleware import BaseHTTPMiddleware

app = Covet()


class AddHeader:
    """Adds a header to every HTTP response it passes on, and a suffix to WebSocket texts."""

    def __init__(self, app: Any, value: str) -> None:
        self.app = app
        self.value = value.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":

            async def send_tagged(message: dict[str, Any]) -> None:
                if message["type"] == "websocket.send" and message.get("text") is not None:
                    message = {**message, "text": message["text"] + " [asgi]"}
                await send(message)

            await self.app(scope, receive, send_tagged)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-asgi", self.value)]
            await send(message)

        await self.app(scope, receive, send_with_header)


class Gate:
    """Answers /blocked itself, raises for /boom, and caps request bodies at 16 bytes by
    raising HTTPException from `receive` (answered by the app's handler: 413)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/blocked":
            await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"blocked by middleware"})
            return
        if scope["type"] == "http" and scope["path"] == "/boom":
            raise RuntimeError("middleware failed")

        async def capped() -> dict[str, Any]:
            message = await receive()
            if len(message.get("body", b"")) > 16:
                raise HTTPException(413, detail="Body too large")
            return message

        await self.app(scope, capped if scope["type"] == "http" else receive, send)


class Tagger(BaseHTTPMiddleware):
    async def dispatch(self, request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-request-mw"] = "yes"
        return response


app.add_middleware(Tagger)
app.add_middleware(Gate)
app.add_middleware(AddHeader, value="on")


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/blocked")
async def blocked() -> dict[str, str]:
    return {"reached": "handler"}


@app.post("/echo")
async def echo(body: dict[str, Any]) -> dict[str, Any]:
    return body


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hi " + await websocket.receive_text())
    await websocket.close()
