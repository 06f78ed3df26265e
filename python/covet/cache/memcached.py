"""The Memcached level, through aiomcache (aio-libs): a small, pure-Python asyncio client with
a connection pool, maintained with aiohttp's family, no C extension to build. It speaks to one
server, so several servers are spread by rendezvous hashing here (adding a server moves only
its share of the keys).

Memcached keys are at most 250 bytes with no spaces or control characters: other keys are
stored under a hash of themselves. Memcached cannot list keys, so it is invalidated by key;
invalidations by prefix or tag reach it through the keys the Redis level lists (docs/caching.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .health import Outage
from .levels import Level

__all__ = ["MemcachedLevel"]

T = TypeVar("T")
_MONTH = 30 * 24 * 3600


def _mc_key(key: str) -> bytes:
    raw = key.encode()
    if len(raw) <= 250 and all(32 < b < 127 for b in raw):
        return raw
    return b"h:" + hashlib.sha256(raw).hexdigest().encode()


def _exptime(ttl: float | None) -> int:
    if ttl is None:
        return 0
    seconds = max(1, math.ceil(ttl))
    # Memcached reads more than 30 days as a Unix time, not a duration.
    return seconds if seconds <= _MONTH else int(time.time()) + seconds


class MemcachedLevel(Level):
    """`servers`: "host:port" strings (or one). `timeout` bounds every call, `pool_size` the
    connections per server and event loop."""

    name = "memcached"

    def __init__(
        self,
        servers: str | Sequence[str] = "127.0.0.1:11211",
        *,
        timeout: float = 0.5,
        pool_size: int = 8,
        retry_interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        if not self.servers:
            raise ValueError("MemcachedLevel needs at least one server")
        self.timeout = timeout
        self.pool_size = pool_size
        self.outage = Outage(f"memcached {','.join(self.servers)}", retry_interval)
        self._clients: dict[str, Any] = {}
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self, server: str) -> Any:
        import aiomcache

        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._clients = {}
            self._slots = asyncio.Semaphore(self.pool_size)
            self._loop = loop
        client = self._clients.get(server)
        if client is None:
            host, _, port = server.rpartition(":")
            client = aiomcache.Client(host or "127.0.0.1", int(port or 11211), pool_size=self.pool_size)
            self._clients[server] = client
        return client

    def _server(self, key: bytes) -> str:
        if len(self.servers) == 1:
            return self.servers[0]
        return max(self.servers, key=lambda s: hashlib.blake2b(s.encode() + b"\0" + key, digest_size=8).digest())

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        probe = self.outage.enter()
        self._client(self.servers[0])  # this loop's clients and slots
        assert self._slots is not None
        try:
            # Waiting for a free connection is load, not an outage: only the exchange itself
            # is bounded by `timeout` and counted as a failure.
            async with self._slots, asyncio.timeout(self.timeout):
                result = await call()
        except (OSError, TimeoutError, ConnectionError, asyncio.IncompleteReadError) as exc:
            raise self.outage.failed(exc) from None
        except Exception as exc:  # aiomcache's ClientException: a protocol-level failure
            if type(exc).__name__ != "ClientException":
                raise
            raise self.outage.failed(exc) from None
        finally:
            self.outage.leave(probe)
        self.outage.succeeded()
        return result

    def _groups(self, keys: Sequence[str]) -> dict[str, list[tuple[int, bytes]]]:
        groups: dict[str, list[tuple[int, bytes]]] = {}
        for i, key in enumerate(keys):
            mc = _mc_key(key)
            groups.setdefault(self._server(mc), []).append((i, mc))
        return groups

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        out: list[bytes | None] = [None] * len(keys)

        async def call() -> None:
            for server, items in self._groups(keys).items():
                values = await self._client(server).multi_get(*(mc for _, mc in items))
                for (i, _), value in zip(items, values, strict=True):
                    out[i] = value

        await self._run(call)
        return out

    async def set(self, key: str, data: bytes, ttl: float | None, tags: Sequence[str]) -> None:
        mc = _mc_key(key)
        await self._run(lambda: self._client(self._server(mc)).set(mc, data, exptime=_exptime(ttl)))

    async def delete_many(self, keys: Sequence[str]) -> None:
        async def call() -> None:
            for server, items in self._groups(keys).items():
                client = self._client(server)
                for _, mc in items:
                    await client.delete(mc)

        if keys:
            await self._run(call)

    async def delete_prefix(self, prefix: str) -> list[str]:
        return []  # cannot list keys: the cache passes it those the Redis level found

    async def delete_tags(self, tags: Sequence[str]) -> list[str]:
        return []

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            try:
                await client.close()
            except (OSError, RuntimeError):
                pass
