"""Invalidations reach every process's memory level through Redis pub/sub.

Each process with a memory level subscribes to one channel per namespace. An invalidation
(keys, prefixes, tags) is applied locally, then published; the other processes apply it to
their memory level when the message arrives (typically within a millisecond or two on one
host). A process that loses its subscription clears its whole memory level when it gets it
back, since it may have missed messages meanwhile: whether the listener saw the connection
fail, or redis-py reconnected and subscribed again by itself (it does when Redis comes back
before the next read); while Redis is unreachable nothing can be
published, and the memory level's `max_ttl` bounds how long an entry can outlive its deletion.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from covet.redis import RedisClient

    from .levels import MemoryLevel

logger = logging.getLogger("covet.cache")


class InvalidationBus:
    def __init__(self, redis: RedisClient, channel: str, memory: MemoryLevel) -> None:
        self.redis = redis
        self.channel = channel
        self.memory = memory
        self.origin = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received = 0

    async def start(self) -> None:
        """Subscribes (once per event loop), waiting at most a moment for the subscription."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._task is not None and not self._task.done():
            return
        self._loop = loop
        self._ready = asyncio.Event()
        self._task = loop.create_task(self._listen(), name=f"covet cache bus {self.channel}")
        try:
            async with asyncio.timeout(self.redis.timeout):
                await self._ready.wait()
        except TimeoutError:
            pass  # Redis unreachable: the listener keeps trying in the background

    async def publish(self, message: dict[str, Any]) -> None:
        from covet.redis import RedisUnavailable

        data = json.dumps({**message, "origin": self.origin})
        try:
            await self.redis.run(lambda r: r.publish(self.channel, data))
        except RedisUnavailable:
            pass  # logged by covet.redis; the memory levels' max_ttl bounds the staleness

    def apply(self, message: dict[str, Any]) -> None:
        store = self.memory.store
        for key in message.get("keys", ()):
            store.delete(key.encode())
        for prefix in message.get("prefixes", ()):
            store.delete_prefix(prefix.encode())
        if message.get("tags"):
            store.delete_tags(list(message["tags"]))
        if message.get("clear"):
            store.clear()

    async def _listen(self) -> None:
        backoff = 0.05
        missed = False
        while True:
            try:
                pubsub = self.redis.client.pubsub(ignore_subscribe_messages=True)
                connection = None
                try:
                    await pubsub.subscribe(self.channel)
                    # Called after redis-py's own resubscription on every later reconnect.
                    connection = pubsub.connection
                    if connection is not None:
                        connection.register_connect_callback(self._reconnected)
                    if missed:
                        # Messages may have been lost while unsubscribed: start afresh.
                        self.memory.store.clear()
                    assert self._ready is not None
                    self._ready.set()
                    backoff = 0.05
                    missed = True
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        body = json.loads(message["data"])
                        if body.get("origin") != self.origin:
                            self.received += 1
                            self.apply(body)
                finally:
                    if connection is not None:  # the connection goes back to the pool
                        connection.deregister_connect_callback(self._reconnected)
                    await pubsub.aclose()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (any failure: resubscribe after a pause)
                logger.debug("cache invalidation subscription lost (%s): %s", self.channel, exc)
                missed = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _reconnected(self, connection: Any) -> None:
        """redis-py subscribed again on a new connection: messages may have been missed."""
        logger.debug("cache invalidation subscription renewed (%s): memory level cleared", self.channel)
        self.memory.store.clear()

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
