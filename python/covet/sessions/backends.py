"""Where session data lives: in the signed cookie itself, or in a server-side store keyed by the
session id that the cookie carries.

A server-side store implements `SessionBackend`: four coroutines over JSON-ready dicts. The
middleware owns everything else (the cookie, signing the id, expiry), so a new store is a small
class: see `MemorySessionBackend` and `RedisSessionBackend`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["SessionBackend", "CookieSessionBackend"]


class SessionBackend(ABC):
    """A server-side session store. `ttl` is in seconds; an entry past it must read as missing."""

    @abstractmethod
    async def read(self, session_id: str) -> dict[str, Any] | None:
        """The data stored for `session_id`, or None when there is none (or it expired)."""

    @abstractmethod
    async def write(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        """Stores `data` under `session_id`, replacing what was there, for `ttl` seconds."""

    @abstractmethod
    async def delete(self, session_id: str) -> None:
        """Forgets `session_id`; deleting a missing entry is not an error."""

    @abstractmethod
    async def touch(self, session_id: str, ttl: int) -> None:
        """Restarts the entry's time to live without rewriting its data (sliding expiry)."""

    async def aclose(self) -> None:  # noqa: B027 - optional: not every store holds connections
        """Releases connections; call it on shutdown."""


class CookieSessionBackend:
    """Session data kept in the cookie itself (the default, as in Starlette and Flask).

    Nothing to run or share between workers, and nothing to clean up; the price is that the data
    travels with every request (browsers cap a cookie near 4 KB) and is readable by the client:
    it is signed, so it cannot be changed, but not encrypted, so keep secrets out of it. Logging
    out cannot revoke a copy of the cookie taken before: only its expiry (`max_age`) bounds it.
    Use a server-side backend when that matters.
    """

    def __repr__(self) -> str:
        return "CookieSessionBackend()"
