"""The covet server `make bench-ws` measures: idle connections, a room, its control socket,
echo. The FastAPI peer is in fastapi_app.py."""

from __future__ import annotations

import time

from covet import Covet, WebSocket
from covet.channels import Channels

app = Covet()
channels = Channels()
ROOM = "bench"


@app.websocket("/idle")
async def idle(websocket: WebSocket) -> None:
    """What an idle connection costs: an accepted socket whose handler waits in receive."""
    await websocket.accept()
    while True:
        await websocket.receive_text()


@app.websocket("/room")
async def member(websocket: WebSocket) -> None:
    await websocket.accept()
    await channels.join(ROOM, websocket)
    while True:
        await websocket.receive_text()


@app.websocket("/control")
async def control(websocket: WebSocket) -> None:
    """`count`: members of the room here; anything else is sent to the room as it is, and
    answered with how long handing it to every member took (`took <seconds> <members>`)."""
    await websocket.accept()
    async for text in websocket.iter_text():
        if text == "count":
            await websocket.send_text(str(channels.local_count(ROOM)))
        else:
            start = time.perf_counter()
            sent = await channels.send_text(ROOM, text)
            await websocket.send_text(f"took {time.perf_counter() - start:.9f} {sent}")


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)
