"""`MemorySessionBackend`: server-side sessions in the process's memory, for development and tests.

Entries vanish on restart and are not shared between workers (`--workers N` gives each process
its own), so production wants `RedisSessionBackend` or the signed-cookie default.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from covet.sessions.backends import SessionBackend

__all__ = ["MemorySessionBackend"]


class MemorySessionBackend(SessionBackend):
    """A dict of session id -> (expiry, JSON text). Data is stored as JSON, as Redis stores it,
    so a value that would not survive Redis fails here too rather than in production.

    `clock` (seconds, monotonic) is there for tests that need time to pass without sleeping.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, str]] = {}
        self._writes = 0

    async def read(self, session_id: str) -> dict[str, Any] | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        expires, text = entry
        if expires <= self._clock():
            del self._entries[session_id]
            return None
        data: dict[str, Any] = json.loads(text)
        return data

    async def write(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        self._entries[session_id] = (self._clock() + ttl, json.dumps(data))
        self._writes += 1
        if self._writes % 1000 == 0:
            self._sweep()

    async def delete(self, session_id: str) -> None:
        self._entries.pop(session_id, None)

    async def touch(self, session_id: str, ttl: int) -> None:
        entry = self._entries.get(session_id)
        if entry is not None:
            self._entries[session_id] = (self._clock() + ttl, entry[1])

    def __len__(self) -> int:
        """How many live sessions are stored (expired ones are dropped first)."""
        self._sweep()
        return len(self._entries)

    def _sweep(self) -> None:
        """Drops expired entries, so abandoned sessions do not grow the dict forever."""
        now = self._clock()
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
