"""What a `Channels` hub needs from a backend, and the in-process backend (one worker).

A backend carries room messages between processes and keeps presence across them. It never
touches a WebSocket: the hub delivers to its own local members (in Rust, one call per
message) and hands the backend only what other processes must see. So the in-process backend
has nothing to do, and a message is delivered to a process's own members exactly once, by
that process, whatever the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["ChannelBackend", "Deliver", "InProcessBackend"]

#: Called by a backend for a message another process sent to `room`.
Deliver = Callable[[str, str | bytes], None]


class ChannelBackend(Protocol):
    """The interface `Channels` drives; see `InProcessBackend` and `RedisBackend`."""

    async def start(self, deliver: Deliver) -> None:
        """Connects; from then on messages from other processes go to `deliver`."""

    async def subscribe(self, room: str) -> None:
        """This process has its first local member in `room`: receive the room's messages.
        Returns once messages published from now on will arrive (or the backend is down and
        will subscribe when it is back)."""

    async def unsubscribe(self, room: str) -> None:
        """This process has no local member left in `room`."""

    async def publish(self, room: str, message: str | bytes) -> None:
        """Sends `message` to the room's members in the other processes."""

    def set_local_count(self, room: str, count: int) -> None:
        """This process now has `count` members in `room` (for presence across processes)."""

    async def count(self, room: str, local: int) -> int:
        """Members of `room` in every process (`local`: this process's own count)."""

    async def close(self) -> None:
        """Disconnects and withdraws this process's presence."""


class InProcessBackend:
    """One process, no broker: rooms are the process's own, presence is the local count.

    The default, so an app with rooms runs with nothing else installed. With `--workers N`
    each worker has its own rooms: use `RedisBackend` so that they share them.
    """

    async def start(self, deliver: Deliver) -> None:
        return None

    async def subscribe(self, room: str) -> None:
        return None

    async def unsubscribe(self, room: str) -> None:
        return None

    async def publish(self, room: str, message: str | bytes) -> None:
        return None

    def set_local_count(self, room: str, count: int) -> None:
        return None

    async def count(self, room: str, local: int) -> int:
        return local

    async def close(self) -> None:
        return None
