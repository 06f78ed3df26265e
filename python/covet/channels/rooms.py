"""`Channels`: named rooms of WebSockets, with fan-out in Rust and an optional broker.

Each room is a `WebSocketGroup`: sending to a room frames the message once in Rust and writes
the same bytes to every local member, one Python call per message whatever the room's size.
A backend (in-process by default, Redis for several processes) carries the message to the
room's members in the other processes, each of which delivers it to its own members the same
way. Membership is local state: it survives a broker outage untouched.

Members whose socket closed are dropped by the group at once (they are never written to) and
from the room's books by a periodic sweep, so a handler that forgets to `leave` does not leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from covet.channels.backends import ChannelBackend, InProcessBackend
from covet.websocket_groups import WebSocketGroup
from covet.websockets import EngineChannel, WebSocket, WebSocketState

__all__ = ["Channels"]

logger = logging.getLogger("covet.channels")

MAX_ROOM_NAME = 256


def _is_open(websocket: WebSocket) -> bool:
    channel = websocket._channel
    if isinstance(channel, EngineChannel):
        return not channel.conn.closed
    return (
        websocket.application_state == WebSocketState.CONNECTED
        and websocket.client_state != WebSocketState.DISCONNECTED
    )


def _check_room(room: str) -> str:
    if not isinstance(room, str) or not room or len(room) > MAX_ROOM_NAME:
        raise ValueError(f"A room name is a non-empty str of at most {MAX_ROOM_NAME} characters, got {room!r}")
    return room


class _Room:
    """A room's local members and the backend subscription that serves them. `count` is
    kept as members come and go (closed ones until the sweep), so that a join costs O(1)
    however large the room."""

    __slots__ = ("group", "subscribed", "count")

    def __init__(self) -> None:
        self.group = WebSocketGroup()
        self.subscribed: asyncio.Task[None] | None = None
        self.count = 0


class Channels:
    """Rooms of WebSockets: `join`, `leave`, `send` to a room, presence counts.

    `backend`: `InProcessBackend()` (default: one process) or `RedisBackend(url)` (rooms
    shared by every process on the same Redis). `sweep_interval`: how often members whose
    socket closed are taken off the books (seconds).
    """

    def __init__(self, backend: ChannelBackend | None = None, *, sweep_interval: float = 1.0) -> None:
        self.backend: ChannelBackend = backend if backend is not None else InProcessBackend()
        self.sweep_interval = sweep_interval
        self._rooms: dict[str, _Room] = {}
        self._memberships: dict[WebSocket, set[str]] = {}
        self._started: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str | None, *, prefix: str = "covet:channels:", **options: Any) -> Channels:
        """A hub on Redis when `url` is set (e.g. `os.environ.get("REDIS_URL")`), in-process
        otherwise."""
        if not url:
            return cls(**options)
        from covet.channels.redis_backend import RedisBackend

        return cls(RedisBackend(url, prefix=prefix), **options)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connects the backend and starts the sweep; `join` does it on first use."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_task(self.backend.start(self._deliver))
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())
        await asyncio.shield(self._started)

    async def close(self) -> None:
        """Stops the sweep and disconnects the backend (withdrawing this process's presence).
        Register it as a shutdown hook: `app.on_event("shutdown")(channels.close)`."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self._sweeper = self._started = None
        await self.backend.close()

    # --- membership ------------------------------------------------------------------------

    async def join(self, room: str, websocket: WebSocket) -> None:
        """Adds an accepted WebSocket to `room` (joining twice is once). Returns once the room's
        messages from other processes will reach it."""
        _check_room(room)
        if websocket.application_state != WebSocketState.CONNECTED:
            raise RuntimeError("Only an accepted WebSocket can join a room: call `await websocket.accept()` first")
        await self.start()
        entry = self._rooms.get(room)
        if entry is None:
            entry = self._rooms[room] = _Room()
            entry.subscribed = asyncio.get_running_loop().create_task(self.backend.subscribe(room))
        rooms = self._memberships.setdefault(websocket, set())
        if room not in rooms:
            rooms.add(room)
            entry.group.add(websocket)
            entry.count += 1
            self.backend.set_local_count(room, entry.count)
        if entry.subscribed is not None:
            await asyncio.shield(entry.subscribed)

    async def leave(self, room: str, websocket: WebSocket) -> None:
        """Takes a WebSocket out of `room` (if it is a member)."""
        rooms = self._memberships.get(websocket)
        if rooms is None or room not in rooms:
            return
        rooms.discard(room)
        if not rooms:
            del self._memberships[websocket]
        await self._remove(room, websocket)

    async def leave_all(self, websocket: WebSocket) -> None:
        """Takes a WebSocket out of every room it is in (what the sweep does for closed ones)."""
        for room in self._memberships.pop(websocket, set()):
            await self._remove(room, websocket)

    @contextlib.asynccontextmanager
    async def joined(self, websocket: WebSocket, *rooms: str) -> AsyncIterator[None]:
        """`async with channels.joined(websocket, "lobby"):` joins, and leaves every room the
        WebSocket is in when the block ends, however it ends."""
        try:
            for room in rooms:
                await self.join(room, websocket)
            yield
        finally:
            await self.leave_all(websocket)

    def rooms_of(self, websocket: WebSocket) -> frozenset[str]:
        """The rooms a WebSocket is in, in this process."""
        return frozenset(self._memberships.get(websocket, ()))

    def rooms(self) -> list[str]:
        """Rooms with at least one member in this process."""
        return list(self._rooms)

    async def _remove(self, room: str, websocket: WebSocket) -> None:
        entry = self._rooms.get(room)
        if entry is None:
            return
        entry.group.discard(websocket)
        entry.count -= 1
        self.backend.set_local_count(room, entry.count)
        if entry.count <= 0:
            del self._rooms[room]
            await self.backend.unsubscribe(room)

    # --- sending -----------------------------------------------------------------------------

    async def send(self, room: str, message: str | bytes, *, exclude: WebSocket | None = None) -> int:
        """Sends `message` to every member of `room` in every process: str as a text
        message, bytes as a binary one. `exclude` (e.g. the sender) is skipped in this
        process. Local members get it before this returns; returns how many that was."""
        _check_room(room)
        if not isinstance(message, str | bytes):
            message = bytes(message)
        entry = self._rooms.get(room)
        sent = entry.group.broadcast(message, exclude=exclude) if entry is not None else 0
        await self.backend.publish(room, message)
        return sent

    async def send_text(self, room: str, text: str, *, exclude: WebSocket | None = None) -> int:
        return await self.send(room, text, exclude=exclude)

    async def send_bytes(self, room: str, data: bytes, *, exclude: WebSocket | None = None) -> int:
        return await self.send(room, bytes(data), exclude=exclude)

    async def send_json(self, room: str, data: Any, *, mode: str = "text", exclude: WebSocket | None = None) -> int:
        """Sends `data` as compact JSON (a text message, or binary with `mode="binary"`)."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return await self.send(room, text if mode == "text" else text.encode(), exclude=exclude)

    def _deliver(self, room: str, message: str | bytes) -> None:
        """A message from another process: to this process's members, in one Rust call."""
        entry = self._rooms.get(room)
        if entry is not None:
            entry.group.broadcast(message)

    # --- presence ----------------------------------------------------------------------------

    def local_count(self, room: str) -> int:
        """Open members of `room` in this process (exact: closed ones not yet swept are left out)."""
        entry = self._rooms.get(room)
        return len(entry.group) if entry is not None else 0

    async def count(self, room: str) -> int:
        """Open members of `room` in every process (with Redis; else this process's)."""
        return await self.backend.count(room, self.local_count(room))

    # --- the sweep ---------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                logger.exception("Channels sweep failed")

    async def sweep(self) -> None:
        """Takes members whose socket closed off the books, and empty rooms with them."""
        closed = [ws for ws in self._memberships if not _is_open(ws)]
        for websocket in closed:
            await self.leave_all(websocket)
