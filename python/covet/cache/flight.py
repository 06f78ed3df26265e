"""Stampede protection: concurrent misses for one key compute it once.

* **In the process**: the first caller starts the computation; the others await the same
  future (`SingleFlight`).
* **Across processes**: the computing caller first takes a short Redis lock
  (`SET key token NX PX`); a process that finds it taken waits for the value to appear in the
  cache instead of computing, polling every few milliseconds, and computes anyway when the
  lock's time is up (the holder died or is slow). With Redis down there is no lock: each
  process computes once, and the cache still answers.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from covet.redis import RedisClient

T = TypeVar("T")

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class SingleFlight:
    """One computation per key at a time in this process."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[Any]] = {}

    def __len__(self) -> int:
        return len(self._running)

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            result = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # the waiters re-raise it; nobody else must report it
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._running[key]


class RedisLock:
    """A short lock across processes, held while one of them computes a key."""

    def __init__(self, redis: RedisClient, ttl: float = 5.0, poll: float = 0.01) -> None:
        self.redis = redis
        self.ttl = ttl
        self.poll = poll

    async def acquire(self, key: str) -> str | None:
        """A token when this process got the lock; None when another holds it. Raises
        RedisUnavailable when Redis cannot be asked (the caller computes without a lock)."""
        token = secrets.token_hex(8)
        got = await self.redis.run(lambda r: r.set(f"covet-cache-lock:{key}", token, nx=True, px=int(self.ttl * 1000)))
        return token if got else None

    async def release(self, key: str, token: str) -> None:
        from covet.redis import RedisUnavailable

        try:
            await self.redis.run(lambda r: r.eval(_RELEASE, 1, f"covet-cache-lock:{key}", token))
        except RedisUnavailable:
            pass  # it expires by itself

    async def wait(self, found: Callable[[], Awaitable[T | None]]) -> T | None:
        """Polls `found` until it gives a value or the lock's time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ttl
        while loop.time() < deadline:
            value = await found()
            if value is not None:
                return value
            await asyncio.sleep(self.poll)
        return None
