"""WebSocket endpoints for tests/test_websockets.py and tests/test_websocket_protocol.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket as StarletteWebSocket

from covet import APIRouter, Cookie, Covet, Depends, Header, Query, WebSocket, WebSocketDisconnect
from covet.websocket_groups import WebSocketGroup
from covet.websockets import WebSocketException

app = Covet()
room_group = WebSocketGroup()
cleanups: list[str] = []


async def session_user(token: Annotated[str | None, Query()] = None) -> str:
    if token is None:
        raise WebSocketException(1008, "token required")
    return token


async def tracked() -> AsyncIterator[str]:
    yield "dep-ready"
    cleanups.append("cleaned")


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


@app.websocket("/params/{room}")
async def params(
    websocket: WebSocket,
    room: str,
    limit: int = 10,
    user: str = Depends(session_user),
    x_client: Annotated[str | None, Header()] = None,
    flavour: Annotated[str | None, Cookie()] = None,
    dep: str = Depends(tracked),
) -> None:
    await websocket.accept()
    await websocket.send_json(
        {
            "room": room,
            "limit": limit,
            "user": user,
            "x_client": x_client,
            "flavour": flavour,
            "dep": dep,
            "path": websocket.url.path,
            "query": dict(websocket.query_params),
            "scheme": websocket.url.scheme,
        }
    )
    await websocket.close()


@app.websocket("/typed/{n}")
async def typed(websocket: WebSocket, n: int) -> None:
    await websocket.accept()
    await websocket.send_text(str(n * 2))


@app.websocket("/subprotocol")
async def subprotocol(websocket: WebSocket) -> None:
    offered = websocket.scope["subprotocols"]
    await websocket.accept(subprotocol=offered[-1] if offered else None, headers=[(b"x-extra", b"yes")])
    await websocket.send_json({"offered": offered})


@app.websocket("/close-code")
async def close_code(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close(4003, "custom reason")


@app.websocket("/refuse")
async def refuse(websocket: WebSocket) -> None:
    await websocket.close(4004)


@app.websocket("/disconnect")
async def disconnect(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        await websocket.receive_text()
    except WebSocketDisconnect as exc:
        app.state.last_disconnect = (exc.code, exc.reason)


@app.get("/last-disconnect")
async def last_disconnect() -> dict[str, object]:
    return {"value": getattr(app.state, "last_disconnect", None), "cleanups": len(cleanups)}


@app.websocket("/error")
async def error(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    raise RuntimeError("handler failed")


@app.websocket("/json")
async def json_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for data in websocket.iter_json():
        await websocket.send_json({"got": data})
        await websocket.send_json({"again": data}, mode="binary")


@app.websocket("/room")
async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    room_group.add(websocket)
    await websocket.send_json({"members": len(room_group)})
    async for text in websocket.iter_text():
        room_group.broadcast(text)


@app.get("/room/count")
async def room_count() -> dict[str, int]:
    return {"members": len(room_group)}


@app.websocket("/firehose")
async def firehose(websocket: WebSocket) -> None:
    """Sends 128 MB as fast as the client takes it; `send_bytes` waits while the socket's
    buffer is full, so a client that does not read holds the handler, not the memory."""
    await websocket.accept()
    app.state.firehose_sent = 0
    chunk = b"z" * 65536
    try:
        for _ in range(2048):
            await websocket.send_bytes(chunk)
            app.state.firehose_sent += 1
    except WebSocketDisconnect:
        pass


@app.websocket("/flood")
async def flood(websocket: WebSocket) -> None:
    """Broadcasts (no await per send) to a client that never reads."""
    await websocket.accept()
    group = WebSocketGroup()
    group.add(websocket)
    chunk = b"y" * 65536
    for _ in range(2000):
        if not group.broadcast(chunk):
            break
        await asyncio.sleep(0)
    app.state.flood_members = len(group)


@app.get("/slow-state")
async def slow_state() -> dict[str, object]:
    return {"flood": getattr(app.state, "flood_members", None), "firehose": getattr(app.state, "firehose_sent", None)}


@app.websocket("/origin", origins=["https://good.example"])
async def origin(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("welcome")


router = APIRouter(prefix="/r")


@router.websocket("/hello/{name}")
async def router_hello(websocket: WebSocket, name: str) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {name}")


app.include_router(router, prefix="/v1")


@app.get("/plain")
async def plain() -> dict[str, str]:
    return {"ok": "yes"}


async def _starlette_ws(websocket: StarletteWebSocket) -> None:
    await websocket.accept()
    name = await websocket.receive_text()
    await websocket.send_text(f"starlette says hi to {name} under {websocket.scope['root_path']}")
    await websocket.close(4010)


app.mount("/legacy", Starlette(routes=[WebSocketRoute("/ws", _starlette_ws)]))
