"""`RedisSessionBackend`: server-side sessions in Redis, shared by every worker and instance.

Each session is one string key, `<prefix><session id>`, holding the data as JSON, with a TTL of
the session's `max_age` so Redis itself forgets abandoned sessions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from covet.redis import RedisClient
from covet.sessions.backends import SessionBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisSessionBackend"]


class RedisSessionBackend(SessionBackend):
    """`RedisSessionBackend("redis://127.0.0.1:6379/0")`, or `RedisSessionBackend(client)` with a
    `redis.asyncio.Redis` you already have (then you close it yourself).

    Redis is reached through `covet.redis.RedisClient`: from a URL, each call is bounded by
    `timeout` (read and connect), and when Redis is down or frozen a request that needs its
    session gets `503` with `Retry-After` (`RedisUnavailable`), one warning per outage in the
    log, and sessions work again as soon as Redis answers (docs/redis.md). There is no safe way
    to fail open here: an empty session would log the user out, and writing nowhere would lose
    what the request changed.
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        prefix: str = "covet:session:",
        timeout: float = 1.0,
        retry_interval: float = 1.0,
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401 - fail at construction, not on the first request
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError('RedisSessionBackend needs redis-py: pip install "covet[redis]"') from exc
        self.prefix = prefix
        self.redis = RedisClient(url_or_client, name="sessions", timeout=timeout, retry_interval=retry_interval)

    @property
    def client(self) -> Redis:
        return self.redis.client

    def key(self, session_id: str) -> str:
        return self.prefix + session_id

    async def read(self, session_id: str) -> dict[str, Any] | None:
        text = await self.redis.run(lambda r: r.get(self.key(session_id)))
        if text is None:
            return None
        data: dict[str, Any] = json.loads(text)
        return data

    async def write(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        value = json.dumps(data)
        await self.redis.run(lambda r: r.set(self.key(session_id), value, ex=ttl))

    async def delete(self, session_id: str) -> None:
        await self.redis.run(lambda r: r.delete(self.key(session_id)))

    async def touch(self, session_id: str, ttl: int) -> None:
        await self.redis.run(lambda r: r.expire(self.key(session_id), ttl))

    async def aclose(self) -> None:
        """Closes the client this backend created from a URL (a client passed in is yours)."""
        await self.redis.aclose()
