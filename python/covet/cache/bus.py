"""Invalidations reach every process's memory level through Redis pub/sub.

Each process with a memory level subscribes to one channel per namespace. An invalidation
(keys, prefixes, tags) is applied locally, then published; the other processes apply it to
their memory level when the message arrives (typically within a millisecond or two on one
host).

A subscription can die without a word: a Redis frozen or cut off by the network sends no
reset, and a pub/sub read waits for ever. So a channel quiet for `check_interval` seconds is
sent a PING; when no answer has come `check_interval` later, the subscription is dead. A
process that loses its subscription (dead, reset, or renewed by redis-py on its own) may have
missed messages: it clears its whole memory level at once, and again when it has subscribed
anew. So a value deleted elsewhere is served here at most about `2 * check_interval` after
the deletion (no later than the death went unnoticed). While Redis is unreachable nothing can
be published, and the memory level's `max_ttl` bounds how long an entry can outlive its
deletion.
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


class SubscriptionDead(Exception):
    """The subscription's connection did not answer a PING in time."""


class InvalidationBus:
    def __init__(self, redis: RedisClient, channel: str, memory: MemoryLevel, check_interval: float = 1.0) -> None:
        if check_interval <= 0:
            raise ValueError("check_interval must be > 0 (seconds)")
        self.redis = redis
        self.channel = channel
        self.memory = memory
        self.check_interval = check_interval
        self.origin = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        #: Times this process cleared its memory level because its subscription was lost.
        self.losses = 0

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
            listening = False
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
                        self._forget("subscribed again")  # messages may have been lost meanwhile
                    assert self._ready is not None
                    self._ready.set()
                    backoff = 0.05
                    missed = listening = True
                    await self._read(pubsub)
                finally:
                    if connection is not None:  # the connection goes back to the pool
                        connection.deregister_connect_callback(self._reconnected)
                    await pubsub.aclose()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (any failure: resubscribe after a pause)
                logger.debug("cache invalidation subscription lost (%s): %r", self.channel, exc)
                if listening:
                    self._forget("subscription lost")  # entries may be deleted elsewhere unheard
                missed = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _read(self, pubsub: Any) -> None:
        """Applies messages until the subscription fails. A quiet channel is pinged; a PING left
        unanswered for `check_interval` raises SubscriptionDead (a read alone would wait for
        ever on a connection that died silently)."""
        loop = asyncio.get_running_loop()
        interval = self.check_interval
        heard = loop.time()
        pinged: float | None = None
        while True:
            deadline = (heard if pinged is None else pinged) + interval
            message = await pubsub.get_message(timeout=max(deadline - loop.time(), 0.001))
            now = loop.time()
            if message is not None:
                heard, pinged = now, None  # anything read (a PONG too) proves the connection
                if message.get("type") == "message":
                    body = json.loads(message["data"])
                    if body.get("origin") != self.origin:
                        self.received += 1
                        self.apply(body)
            elif now >= deadline:
                if pinged is not None:
                    raise SubscriptionDead(f"no answer to PING within {interval:g} s")
                await pubsub.ping()
                pinged = now

    def _forget(self, why: str) -> None:
        logger.debug("cache invalidation %s (%s): memory level cleared", why, self.channel)
        self.losses += 1
        self.memory.store.clear()

    async def _reconnected(self, connection: Any) -> None:
        """redis-py subscribed again on a new connection: messages may have been missed."""
        self._forget("subscription renewed")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
