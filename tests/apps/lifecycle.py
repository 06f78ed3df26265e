"""An app for connection-lifecycle tests: a fast route, a slow one (a handler still running
when the server is told to stop), a health check, an upload that reads its body, and a large
response (larger than the socket buffers), and a WebSocket handler that never returns."""

from __future__ import annotations

import asyncio

from covet import Covet, Request, WebSocket
from covet.responses import Response

app = Covet()


@app.get("/fast")
async def fast() -> dict[str, bool]:
    return {"ok": True}


@app.get("/slow")
async def slow(ms: int = 300) -> dict[str, int]:
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    body = await request.body()
    return {"size": len(body)}


BIG = b"x" * (8 * 1024 * 1024)


@app.get("/big")
def big() -> Response:
    return Response(BIG, media_type="application/octet-stream")


@app.websocket("/stuck")
async def stuck(websocket: WebSocket) -> None:
    await websocket.accept()
    await asyncio.Event().wait()  # neither reads nor returns: only cancelling ends it
