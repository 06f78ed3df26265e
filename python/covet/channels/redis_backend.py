"""`RedisBackend`: rooms shared by every process on one Redis, through pub/sub.

Each process subscribes to the channels of the rooms it has local members in
(`<prefix>room:<name>`). A message is published with the sending process's id in front; the
sender has already delivered it to its own members, so it skips its own copy when Redis
echoes it back: every member gets a message once.

**Redis going away.** Membership is local and is never lost. The listener reconnects with
exponential backoff and subscribes again to the rooms that still have local members. While
Redis is down, `send` still delivers to the sending process's members; the copy for the other
processes is dropped, with a warning (once per outage, and a count when Redis is back).
Nothing is queued: a chat line from a minute ago is worth less than a bounded memory.

**Presence.** Every process writes its member count per room into the hash
`<prefix>presence:<room>` (field: the process id) and keeps `<prefix>alive:<process id>`
alive with a heartbeat. A count adds the fields of live processes, so a process that died
without saying goodbye stops counting once its heartbeat expires. While Redis is down, counts
are this process's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from covet.channels.backends import Deliver
from covet.redis import connect

__all__ = ["RedisBackend"]

logger = logging.getLogger("covet.channels")

_TEXT = b"t"
_BINARY = b"b"
_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class RedisBackend:
    """Rooms across processes on Redis pub/sub (redis-py's asyncio client).

    `url`: the Redis URL. `prefix`: put in front of every channel and key, so apps (and
    tests) sharing a Redis stay apart. `heartbeat`: seconds between presence refreshes (a dead
    process stops counting after three). `max_backoff`: the longest wait between reconnects.
    `subscribe_timeout`: how long `join` waits for Redis to confirm a new subscription.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "covet:channels:",
        heartbeat: float = 5.0,
        max_backoff: float = 5.0,
        subscribe_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.heartbeat = heartbeat
        self.max_backoff = max_backoff
        self.subscribe_timeout = subscribe_timeout
        self.process_id = uuid.uuid4().hex[:16]
        self._origin = self.process_id.encode()
        self._client: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._deliver: Deliver | None = None
        self._rooms: set[str] = set()  # rooms this process wants messages for
        self._pending: dict[bytes, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._counts: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._first_attempt: asyncio.Future[None] | None = None
        #: True while the pub/sub connection is up and subscribed.
        self.connected = False
        #: Messages whose cross-process copy was dropped because Redis was down.
        self.dropped = 0
        self._dropped_in_outage = 0

    # --- names -------------------------------------------------------------------------------

    def channel(self, room: str) -> bytes:
        return f"{self.prefix}room:{room}".encode()

    def _room_of(self, channel: bytes) -> str:
        return channel.decode()[len(self.prefix) + 5 :]

    def _presence_key(self, room: str) -> str:
        return f"{self.prefix}presence:{room}"

    def _alive_key(self, process_id: str) -> str:
        return f"{self.prefix}alive:{process_id}"

    @property
    def _control(self) -> bytes:
        """A channel of this process's own, so the listener always has a subscription."""
        return f"{self.prefix}process:{self.process_id}".encode()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        # covet's Redis client (covet.redis.connect: bounded connects and reads, a pool that
        # waits when busy), but no retries: a failure must surface at once, so `send` can fall
        # back to local delivery and the listener can run its own backoff.
        self._client = connect(self.url, timeout=5, connect_timeout=2, retries=0)
        loop = asyncio.get_running_loop()
        self._first_attempt = loop.create_future()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._write_presence())]
        # The first join waits for the first connection (or its failure), so that a room joined
        # at startup is subscribed before the handler goes on.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._first_attempt), self.subscribe_timeout)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        client, self._client = self._client, None
        if client is None:
            return
        if self.connected:
            with contextlib.suppress(*_FAILURES):
                async with client.pipeline(transaction=False) as pipe:
                    for room in self._counts:
                        pipe.hdel(self._presence_key(room), self.process_id)
                    pipe.delete(self._alive_key(self.process_id))
                    await pipe.execute()
        self.connected = False
        with contextlib.suppress(*_FAILURES):
            await client.aclose()

    # --- subscriptions -----------------------------------------------------------------------

    async def subscribe(self, room: str) -> None:
        self._rooms.add(room)
        channel = self.channel(room)
        async with self._lock:
            if room not in self._rooms or self._pubsub is None:
                return  # the listener subscribes to every wanted room when it (re)connects
            waiter = self._pending.setdefault(channel, asyncio.get_running_loop().create_future())
            try:
                await self._pubsub.subscribe(channel)
            except _FAILURES:
                return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), self.subscribe_timeout)

    async def unsubscribe(self, room: str) -> None:
        self._rooms.discard(room)
        async with self._lock:
            if room in self._rooms or self._pubsub is None:
                return
            with contextlib.suppress(*_FAILURES):
                await self._pubsub.unsubscribe(self.channel(room))

    async def _listen(self) -> None:
        """Reads pub/sub messages for as long as the backend runs; reconnects with backoff."""
        delay = 0.05
        outage = False
        assert self._client is not None
        while True:
            pubsub = self._client.pubsub()
            try:
                async with self._lock:
                    self._pubsub = pubsub
                    await pubsub.subscribe(self._control, *(self.channel(room) for room in self._rooms))
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    kind = message["type"]
                    if kind == "message":
                        self._on_message(message["channel"], message["data"])
                    elif kind == "subscribe":
                        if message["channel"] == self._control:
                            self._on_connected(outage)
                            outage, delay = False, 0.05
                        waiter = self._pending.pop(message["channel"], None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(None)
            except _FAILURES as exc:
                if self.connected or not outage:
                    logger.warning("Redis channel backend disconnected (%s): reconnecting", exc or type(exc).__name__)
                self.connected = False
                outage = True
                self._attempted()
            finally:
                self._pubsub = None
                with contextlib.suppress(*_FAILURES, RuntimeError):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    def _on_connected(self, after_outage: bool) -> None:
        self.connected = True
        if after_outage:
            logger.warning(
                "Redis channel backend reconnected: subscribed again to %d rooms; %d messages were "
                "delivered locally only while it was down",
                len(self._rooms),
                self._dropped_in_outage,
            )
        self._dropped_in_outage = 0
        self._dirty.update(self._counts)  # Redis may have restarted empty
        self._wake.set()
        self._attempted()

    def _attempted(self) -> None:
        if self._first_attempt is not None and not self._first_attempt.done():
            self._first_attempt.set_result(None)

    def _on_message(self, channel: bytes, data: bytes) -> None:
        if data[:16] == self._origin or self._deliver is None:
            return  # this process's own message: its members already have it
        kind, payload = data[16:17], data[17:]
        self._deliver(self._room_of(channel), payload.decode() if kind == _TEXT else payload)

    # --- publishing --------------------------------------------------------------------------

    async def publish(self, room: str, message: str | bytes) -> None:
        if not self.connected or self._client is None:
            self._drop(room, "Redis is unavailable")
            return
        if isinstance(message, str):
            data = self._origin + _TEXT + message.encode()
        else:
            data = self._origin + _BINARY + message
        try:
            await self._client.publish(self.channel(room), data)
        except _FAILURES as exc:
            self._drop(room, str(exc) or type(exc).__name__)

    def _drop(self, room: str, why: str) -> None:
        self.dropped += 1
        self._dropped_in_outage += 1
        if self._dropped_in_outage == 1:
            logger.warning(
                "Message to room %r delivered to this process's members only; other processes' copy "
                "dropped (%s). Further drops are counted until Redis is back.",
                room,
                why,
            )

    # --- presence ----------------------------------------------------------------------------

    def set_local_count(self, room: str, count: int) -> None:
        if self._counts.get(room, 0) == count:
            return
        if count:
            self._counts[room] = count
        else:
            self._counts.pop(room, None)
        self._dirty.add(room)
        self._wake.set()

    async def _write_presence(self) -> None:
        """Writes changed counts at once (coalesced) and all of them every heartbeat."""
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.heartbeat)
            self._wake.clear()
            if not self.connected or self._client is None:
                continue
            dirty, self._dirty = self._dirty, set()
            ttl = max(1, round(self.heartbeat * 3))
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    pipe.set(self._alive_key(self.process_id), 1, ex=ttl)
                    for room in dirty | set(self._counts):
                        key = self._presence_key(room)
                        count = self._counts.get(room, 0)
                        if count:
                            pipe.hset(key, self.process_id, count)
                            pipe.expire(key, ttl)
                        else:
                            pipe.hdel(key, self.process_id)
                    await pipe.execute()
            except _FAILURES as exc:
                logger.debug("Presence write failed: %r", exc)
                self._dirty |= dirty

    async def count(self, room: str, local: int) -> int:
        if not self.connected or self._client is None:
            return local
        key = self._presence_key(room)
        try:
            fields: dict[bytes, bytes] = await self._client.hgetall(key)
            others = [f.decode() for f in fields if f != self._origin]
            if not others:
                return local
            alive = await self._client.mget([self._alive_key(p) for p in others])
            dead = [p for p, a in zip(others, alive, strict=True) if a is None]
            if dead:
                await self._client.hdel(key, *dead)
            return local + sum(int(fields[p.encode()]) for p, a in zip(others, alive, strict=True) if a is not None)
        except _FAILURES as exc:
            logger.debug("Presence read failed: %r", exc)
            return local
