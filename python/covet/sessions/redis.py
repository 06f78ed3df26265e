"""`RedisSessionBackend`: server-side sessions in Redis, shared by every worker and instance.

Each session is one string key, `<prefix><session id>`, holding the data as JSON, with a TTL of
the session's `max_age` so Redis itself forgets abandoned sessions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from covet.sessions.backends import SessionBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisSessionBackend"]


class RedisSessionBackend(SessionBackend):
    """`RedisSessionBackend("redis://127.0.0.1:6379/0")`, or `RedisSessionBackend(client)` with a
    `redis.asyncio.Redis` you already have (then you close it yourself).

    A URL's client is created on first use, inside the worker's event loop, because a
    redis.asyncio connection belongs to the loop that opened it.
    """

    def __init__(self, url_or_client: str | Redis, *, prefix: str = "covet:session:") -> None:
        try:
            import redis.asyncio  # noqa: F401 - fail at construction, not on the first request
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError('RedisSessionBackend needs redis-py: pip install "covet[redis]"') from exc
        self.prefix = prefix
        self._url = url_or_client if isinstance(url_or_client, str) else None
        self._client: Redis | None = None if isinstance(url_or_client, str) else url_or_client

    @property
    def client(self) -> Redis:
        if self._client is None:
            from redis.asyncio import Redis

            assert self._url is not None
            self._client = Redis.from_url(self._url)
        return self._client

    def key(self, session_id: str) -> str:
        return self.prefix + session_id

    async def read(self, session_id: str) -> dict[str, Any] | None:
        text = await self.client.get(self.key(session_id))
        if text is None:
            return None
        data: dict[str, Any] = json.loads(text)
        return data

    async def write(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        await self.client.set(self.key(session_id), json.dumps(data), ex=ttl)

    async def delete(self, session_id: str) -> None:
        await self.client.delete(self.key(session_id))

    async def touch(self, session_id: str, ttl: int) -> None:
        await self.client.expire(self.key(session_id), ttl)

    async def aclose(self) -> None:
        """Closes the client this backend created from a URL (a client passed in is yours)."""
        if self._url is not None and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
