"""The levels a `Cache` is made of, fastest first: the engine's memory, Redis, Memcached.

Each level stores envelopes (bytes) under full keys and counts what happened to it. A level
that cannot answer raises `LevelDown`; the cache then skips it for that call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from covet._engine import MemoryCache

from .health import LevelDown

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from covet.redis import RedisClient

__all__ = ["Level", "MemoryLevel", "RedisLevel"]


class Level:
    """What every level provides; `figures()` reads its counters."""

    name = "level"

    def __init__(self) -> None:
        self.counts = {"hits": 0, "misses": 0, "fills": 0, "sets": 0, "deletes": 0, "skipped": 0}

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        raise NotImplementedError

    async def set(self, key: str, data: bytes, ttl: float | None, tags: Sequence[str]) -> None:
        raise NotImplementedError

    async def delete_many(self, keys: Sequence[str]) -> None:
        raise NotImplementedError

    async def delete_prefix(self, prefix: str) -> list[str]:
        """Drops the keys starting with `prefix`; returns them where the level can list them."""
        raise NotImplementedError

    async def delete_tags(self, tags: Sequence[str]) -> list[str]:
        """Drops the entries carrying any of `tags`; returns their keys where it can list them."""
        raise NotImplementedError

    def figures(self) -> dict[str, int]:
        return dict(self.counts)

    async def aclose(self) -> None:
        return None


class MemoryLevel(Level):
    """The engine's in-process memory, shared by the worker's threads: at most `max_items`
    entries and `max_bytes` bytes, evicting by `policy` ("s3fifo", the default, or "lru";
    docs/caching.md has the measurements). `max_ttl` caps how long any entry stays here, which
    bounds how stale a process can be when an invalidation cannot reach it (Redis down)."""

    name = "memory"

    def __init__(
        self,
        max_items: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        *,
        policy: str = "s3fifo",
        max_ttl: float | None = 300.0,
    ) -> None:
        super().__init__()
        self.store = MemoryCache(max_items, max_bytes, policy)
        self.max_ttl = max_ttl

    def _ttl(self, ttl: float | None) -> float | None:
        if self.max_ttl is None:
            return ttl
        return self.max_ttl if ttl is None else min(ttl, self.max_ttl)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return self.store.get_many([k.encode() for k in keys])

    async def set(self, key: str, data: bytes, ttl: float | None, tags: Sequence[str]) -> None:
        self.store.set(key.encode(), data, self._ttl(ttl), list(tags))

    async def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.store.delete(key.encode())

    async def delete_prefix(self, prefix: str) -> list[str]:
        self.store.delete_prefix(prefix.encode())
        return []

    async def delete_tags(self, tags: Sequence[str]) -> list[str]:
        self.store.delete_tags(list(tags))
        return []

    def figures(self) -> dict[str, int]:
        engine = self.store.stats()
        return {
            **self.counts,
            "hits": engine["hits"],
            "misses": engine["misses"],
            "evictions": engine["evictions"],
            "entries": engine["entries"],
            "bytes": engine["bytes"],
        }


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisLevel(Level):
    """A Redis level through `covet.redis` (bounded timeouts, one log line per outage, recovery
    without restart; see docs/redis.md). Tags are Redis sets of keys, so an invalidation by tag
    also learns which keys to drop from the levels that cannot list keys (Memcached)."""

    name = "redis"

    def __init__(
        self, url_or_client: str | Redis | RedisClient, *, timeout: float = 0.5, retry_interval: float = 1.0
    ) -> None:
        from covet.redis import RedisClient

        super().__init__()
        if isinstance(url_or_client, RedisClient):
            self.redis = url_or_client
        else:
            self.redis = RedisClient(url_or_client, name="cache", timeout=timeout, retry_interval=retry_interval)

    async def _run(self, call):  # type: ignore[no-untyped-def]
        from covet.redis import RedisUnavailable

        try:
            return await self.redis.run(call)
        except RedisUnavailable as exc:
            raise LevelDown("redis") from exc

    def _tag_key(self, tag: str) -> str:
        return f"covet-cache-tag:{tag}"

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return await self._run(lambda r: r.mget(list(keys)))

    async def set(self, key: str, data: bytes, ttl: float | None, tags: Sequence[str]) -> None:
        async def call(r: Redis) -> None:
            async with r.pipeline(transaction=False) as pipe:
                pipe.set(key, data, px=None if ttl is None else max(1, math.ceil(ttl * 1000)))
                for tag in tags:
                    tag_key = self._tag_key(tag)
                    pipe.sadd(tag_key, key)
                    if ttl is None:
                        pipe.persist(tag_key)
                    else:
                        seconds = max(1, math.ceil(ttl))
                        pipe.expire(tag_key, seconds, nx=True)
                        pipe.expire(tag_key, seconds, gt=True)
                await pipe.execute()

        await self._run(call)

    async def delete_many(self, keys: Sequence[str]) -> None:
        if keys:
            await self._run(lambda r: r.unlink(*keys))

    async def delete_prefix(self, prefix: str) -> list[str]:
        async def call(r: Redis) -> list[str]:
            found: list[str] = []
            batch: list[bytes] = []
            async for key in r.scan_iter(match=_glob_escape(prefix) + "*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    await r.unlink(*batch)
                    found += [k.decode() for k in batch]
                    batch = []
            if batch:
                await r.unlink(*batch)
                found += [k.decode() for k in batch]
            return found

        return await self._run(call)

    async def delete_tags(self, tags: Sequence[str]) -> list[str]:
        async def call(r: Redis) -> list[str]:
            tag_keys = [self._tag_key(t) for t in tags]
            async with r.pipeline(transaction=False) as pipe:
                for tag_key in tag_keys:
                    pipe.smembers(tag_key)
                members = await pipe.execute()
            keys = sorted({k.decode() for group in members for k in group})
            if keys or tag_keys:
                await r.unlink(*keys, *tag_keys)
            return keys

        return await self._run(call)

    async def aclose(self) -> None:
        await self.redis.aclose()
