"""`WebSocketGroup`: send one message to many WebSockets with one call (rooms, fan-out).

On covet's own server (and in the TestClient) members are the engine's connections: a
`broadcast` frames the message once in Rust and writes the same bytes to every member, with
no Python work per recipient. Under an ASGI server there is no engine connection to write
to, so members there are sent to with one `send` Task each; the API is the same.

Closed members leave the group by themselves (they are dropped on the next `broadcast` or
`len()`). A member whose client does not read is dropped by its connection's slow-consumer
limit (`--ws-max-send-buffer`, close code 1008), so a broadcast never buffers without bound.
Redis pub/sub across processes builds on this (covet.channels); a group is per process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from covet import _engine
from covet.websockets import EngineChannel, WebSocket, WebSocketState

__all__ = ["WebSocketGroup"]

logger = logging.getLogger("covet.websockets")


class WebSocketGroup:
    """A set of accepted WebSockets that `broadcast` sends to at once."""

    __slots__ = ("_engine", "_others", "_tasks")

    def __init__(self) -> None:
        self._engine = _engine.WebSocketGroup()
        self._others: set[WebSocket] = set()  # ASGI connections
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, websocket: WebSocket) -> None:
        """Adds an accepted WebSocket (adding one twice does nothing)."""
        channel = websocket._channel
        if isinstance(channel, EngineChannel):
            self._engine.add(channel.conn)
        else:
            self._others.add(websocket)

    def discard(self, websocket: WebSocket) -> None:
        """Removes a WebSocket if it is a member."""
        channel = websocket._channel
        if isinstance(channel, EngineChannel):
            self._engine.discard(channel.conn)
        else:
            self._others.discard(websocket)

    def __contains__(self, websocket: WebSocket) -> bool:
        channel = websocket._channel
        if isinstance(channel, EngineChannel):
            return channel.conn in self._engine
        return websocket in self._others

    def __len__(self) -> int:
        """Members still open."""
        self._prune()
        return len(self._engine) + len(self._others)

    def _prune(self) -> None:
        self._others = {
            ws
            for ws in self._others
            if ws.application_state == WebSocketState.CONNECTED and ws.client_state != WebSocketState.DISCONNECTED
        }

    def broadcast(self, message: str | bytes, *, exclude: WebSocket | None = None) -> int:
        """Sends `message` to every open member (str: text, bytes: binary) except `exclude`;
        returns how many it went to. Not a coroutine: on covet's server the bytes are handed
        to every socket before it returns."""
        excluded = None
        if exclude is not None and isinstance(exclude._channel, EngineChannel):
            excluded = exclude._channel.conn
        sent: int = self._engine.broadcast(message, excluded)
        if self._others:
            self._prune()
            for ws in self._others:
                if ws is exclude:
                    continue
                task = asyncio.get_running_loop().create_task(_send(ws, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                sent += 1
        return sent


async def _send(websocket: WebSocket, message: str | bytes) -> None:
    try:
        if isinstance(message, str):
            await websocket.send_text(message)
        else:
            await websocket.send_bytes(message)
    except Exception as exc:  # the member left meanwhile: it leaves the group on the next prune
        logger.debug("Broadcast to a WebSocket failed: %r", exc)
