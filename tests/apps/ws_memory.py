"""WebSocket endpoints for tests/test_websocket_memory.py: handlers that do not read until told
to, and one that answers each message with its sequence number."""

from __future__ import annotations

import asyncio

from covet import Covet, WebSocket

app = Covet()
release = asyncio.Event()


@app.websocket("/hold")
async def hold(websocket: WebSocket) -> None:
    """Reads nothing until POST /release (what it is sent can only queue), then counts the
    binary messages and answers the text "count" with how many arrived."""
    await websocket.accept()
    await release.wait()
    count = 0
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            count += 1
        else:
            await websocket.send_text(str(count))


@app.websocket("/first")
async def first(websocket: WebSocket) -> None:
    """Takes one message and returns, leaving the rest unread."""
    await websocket.accept()
    await websocket.receive()


@app.post("/release")
async def release_holders() -> dict[str, bool]:
    release.set()
    return {"released": True}


@app.websocket("/sequence")
async def sequence(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        await websocket.send_text(f"{message['bytes'][:8].decode()}:{len(message['bytes'])}")


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}
