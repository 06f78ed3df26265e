"""`Cache`: levels, fastest first, behind one get/set/delete API.

A read asks the levels in order and stops at the first hit; the levels above it that missed
are filled with the entry (for its remaining lifetime), so the next read is answered higher
up. A write goes to every level. A level that is down is skipped (see `health`), so the cache
degrades to the levels that answer, down to computing every value, and never fails a request.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .bus import InvalidationBus
from .envelope import Envelope
from .flight import RedisLock, SingleFlight
from .health import LevelDown
from .levels import Level, MemoryLevel, RedisLevel
from .serializers import JSON, Serializer

if TYPE_CHECKING:
    from covet.redis import RedisClient

logger = logging.getLogger("covet.cache")
Compute = Callable[[], Awaitable[Any]]
_MISSING = object()


class Cache:
    """`Cache(MemoryLevel(), RedisLevel(url), MemcachedLevel(servers), namespace="app")`.

    `namespace` prefixes every key (and names the invalidation channel); `serializer` is
    `JSON()` (default), `Pickle()` or `Raw()`; `ttl` is the default lifetime in seconds
    (None: until evicted). With a Redis level, misses are computed once across processes
    (`lock_ttl` bounds the lock) and invalidations reach every process's memory level; a
    subscription quiet for `invalidation_check` seconds is pinged, and counted dead (the
    memory level cleared) when the answer has not come as long again.
    """

    #: An OpenTelemetry tracer when `covet.tracing` is on: reads and writes become spans.
    tracer: Any = None
    span_kind: Any = None  # SpanKind.CLIENT, set with it (this module never imports OpenTelemetry)

    def __init__(
        self,
        *levels: Level,
        namespace: str = "covet",
        serializer: Serializer | None = None,
        ttl: float | None = 300.0,
        lock_ttl: float = 5.0,
        invalidation_check: float = 1.0,
    ) -> None:
        if not levels:
            raise ValueError("a Cache needs at least one level")
        self.levels = list(levels)
        self.namespace = namespace
        self.serializer = serializer or JSON()
        self.ttl = ttl
        self.flight = SingleFlight()
        self.redis: RedisClient | None = next((lv.redis for lv in levels if isinstance(lv, RedisLevel)), None)
        self.lock = RedisLock(self.redis, lock_ttl) if self.redis else None
        memory = next((lv for lv in levels if isinstance(lv, MemoryLevel)), None)
        channel = f"covet-cache:{namespace}"
        self.bus = InvalidationBus(self.redis, channel, memory, invalidation_check) if self.redis and memory else None
        self.computed = 0
        self._refreshing: set[asyncio.Task[Any]] = set()
        # Depends(cache) hands the cache itself to a handler: it takes no request parameters.
        self.__signature__ = inspect.Signature()

    # --- keys --------------------------------------------------------------------------------

    def full_key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _tags(self, tags: Iterable[str]) -> tuple[str, ...]:
        """Tags are namespaced like keys: two caches may use the same tag names."""
        return tuple(self.full_key(t) for t in tags)

    # --- the levels --------------------------------------------------------------------------

    async def _ready(self) -> None:
        if self.bus is not None:
            await self.bus.start()

    async def _call(self, level: Level, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except LevelDown:
            level.counts["skipped"] += 1
            return _MISSING

    async def _lookup(self, keys: Sequence[str], *, skip: int = 0) -> list[Envelope | None]:
        """Envelopes for full `keys` from the first level holding each, filling those above
        (the first `skip` levels are known to have missed: filled, not asked)."""
        if self.tracer is None:
            return await self._lookup_levels(keys, skip)
        with self.tracer.start_as_current_span(
            "cache get", kind=self.span_kind, attributes=self._span_attrs(keys)
        ) as span:
            found = await self._lookup_levels(keys, skip)
            span.set_attribute("cache.hits", sum(e is not None for e in found))
            return found

    def _span_attrs(self, keys: Sequence[str]) -> dict[str, Any]:
        levels = ",".join(level.name for level in self.levels)
        return {"cache.namespace": self.namespace, "cache.keys": len(keys), "cache.levels": levels}

    async def _lookup_levels(self, keys: Sequence[str], skip: int) -> list[Envelope | None]:
        await self._ready()
        found: list[Envelope | None] = [None] * len(keys)
        wanted = list(range(len(keys)))
        missed_in: list[Level] = self.levels[:skip]
        now = time.time()
        for level in self.levels[skip:]:
            values = await self._call(level, level.get_many([keys[i] for i in wanted]))
            if values is _MISSING:
                continue
            still: list[int] = []
            for i, raw in zip(wanted, values, strict=True):
                envelope = Envelope.unpack(raw) if raw is not None else None
                remaining = envelope.remaining(now) if envelope is not None else 0
                if envelope is None or (remaining is not None and remaining <= 0):
                    still.append(i)
                    continue
                found[i] = envelope
                if not isinstance(level, MemoryLevel):
                    level.counts["hits"] += 1
                for above in missed_in:
                    above.counts["fills"] += 1
                    await self._call(above, above.set(keys[i], raw, remaining, envelope.tags))
            if not isinstance(level, MemoryLevel):
                level.counts["misses"] += len(still)
            wanted = still
            missed_in.append(level)
            if not wanted:
                break
        return found

    async def _store(self, key: str, envelope: Envelope) -> None:
        if self.tracer is None:
            return await self._store_levels(key, envelope)
        with self.tracer.start_as_current_span("cache set", kind=self.span_kind, attributes=self._span_attrs([key])):
            await self._store_levels(key, envelope)

    async def _store_levels(self, key: str, envelope: Envelope) -> None:
        data = envelope.pack()
        remaining = envelope.remaining(time.time())
        for level in self.levels:
            level.counts["sets"] += 1
            await self._call(level, level.set(key, data, remaining, envelope.tags))

    # --- the API -----------------------------------------------------------------------------

    async def get(self, key: str, default: Any = None) -> Any:
        """The value under `key` (stale or not), or `default`."""
        (envelope,) = await self._lookup([self.full_key(key)])
        return default if envelope is None else self.serializer.loads(envelope.payload)

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values found, by key (missing keys are left out)."""
        keys = list(keys)
        envelopes = await self._lookup([self.full_key(k) for k in keys])
        return {k: self.serializer.loads(e.payload) for k, e in zip(keys, envelopes, strict=True) if e is not None}

    async def set(
        self,
        key: str,
        value: Any,
        *,
        ttl: float | None | object = _MISSING,
        tags: Sequence[str] = (),
        stale: float = 0.0,
    ) -> None:
        """Stores `value` in every level for `ttl` seconds (the cache's default when left out;
        None: until evicted), then `stale` seconds more during which it is served while refreshed."""
        lifetime = self.ttl if ttl is _MISSING else ttl
        envelope = Envelope.make(self.serializer.dumps(value), lifetime, stale, 0.0, self._tags(tags))  # type: ignore[arg-type]
        await self._store(self.full_key(key), envelope)

    async def delete(self, *keys: str) -> None:
        """Drops `keys` from every level, in every process."""
        await self.invalidate(keys=keys)

    async def invalidate(
        self, *, keys: Iterable[str] = (), prefix: str | None = None, tags: Iterable[str] = ()
    ) -> None:
        """Drops entries by key, key prefix (within the namespace) and tag, from every level of
        this process and from every other process's memory level (through Redis pub/sub)."""
        await self._ready()
        full = [self.full_key(k) for k in keys]
        tags = list(self._tags(tags))
        prefixes = [self.full_key(prefix)] if prefix is not None else []
        listed: list[str] = []
        for level in self.levels:
            for p in prefixes:
                got = await self._call(level, level.delete_prefix(p))
                listed += got if got is not _MISSING else []
            if tags:
                got = await self._call(level, level.delete_tags(tags))
                listed += got if got is not _MISSING else []
        doomed = sorted(set(full + listed))
        for level in self.levels:
            level.counts["deletes"] += len(doomed)
            await self._call(level, level.delete_many(doomed))
        if self.bus is not None:
            await self.bus.publish({"keys": doomed, "prefixes": prefixes, "tags": tags})

    async def clear(self) -> None:
        """Drops this cache's namespace everywhere."""
        await self.invalidate(prefix="")

    # --- compute once ------------------------------------------------------------------------

    async def get_or_set(
        self,
        key: str,
        compute: Compute,
        *,
        ttl: float | None | object = _MISSING,
        tags: Sequence[str] = (),
        stale: float = 0.0,
        beta: float = 1.0,
    ) -> Any:
        """The cached value, or `compute()`'s, computed once per process and (with a Redis
        level) once across processes. A value past `ttl` but within `stale` more seconds is
        served while one caller refreshes it in the background; a fresh value is refreshed
        early, with a probability rising as its end nears (weighted by how long it takes to
        compute, `beta` scales it; 0 turns it off), so a hot key never expires for everyone."""
        lifetime = self.ttl if ttl is _MISSING else ttl
        full = self.full_key(key)
        envelope = await self._peek(full)
        if envelope is None:
            # Past the memory level, one caller per key goes on (to Redis, then computing),
            # so a cold key costs one round trip per level and one computation, not one each.
            loaded = await self.flight.run(full, lambda: self._load(full, compute, lifetime, tags, stale))  # type: ignore[arg-type]
            envelope, computed = loaded
            if computed:
                return self.serializer.loads(envelope.payload)
        now = time.time()
        stale_now = now >= envelope.fresh_until
        # XFetch (Vattani et al.): refresh early with a probability rising near the end.
        jitter = -envelope.compute * beta * math.log(random.random() or 1e-12)
        early = beta > 0 and envelope.compute > 0 and now + jitter >= envelope.fresh_until
        if stale_now or early:
            self._refresh(full, compute, lifetime, tags, stale)  # type: ignore[arg-type]
        return self.serializer.loads(envelope.payload)

    async def _peek(self, full: str) -> Envelope | None:
        """The live entry in the memory level (when the first level is one), else None."""
        first = self.levels[0]
        if not isinstance(first, MemoryLevel):
            return None
        raw = first.store.get(full.encode())
        envelope = Envelope.unpack(raw) if raw is not None else None
        if envelope is None:
            return None
        remaining = envelope.remaining(time.time())
        return envelope if remaining is None or remaining > 0 else None

    async def _load(
        self, full: str, compute: Compute, ttl: float | None, tags: Sequence[str], stale: float
    ) -> tuple[Envelope, bool]:
        skip = 1 if isinstance(self.levels[0], MemoryLevel) else 0
        (envelope,) = await self._lookup([full], skip=skip)
        if envelope is not None:
            return envelope, False
        return await self._compute(full, compute, ttl, tags, stale), True

    def _refresh(self, full: str, compute: Compute, ttl: float | None, tags: Sequence[str], stale: float) -> None:
        if full in self.flight._running:
            return

        async def refresh() -> None:
            try:
                await self.flight.run(full, lambda: self._refresh_now(full, compute, ttl, tags, stale))
            except _Busy:
                pass  # another process refreshes it
            except Exception:
                logger.exception("cache refresh of %s failed; the stale value is served until it expires", full)

        task = asyncio.get_running_loop().create_task(refresh())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def _compute(
        self,
        full: str,
        compute: Compute,
        ttl: float | None,
        tags: Sequence[str],
        stale: float,
        refresh: bool = False,
    ) -> Envelope:
        from covet.redis import RedisUnavailable

        token = None
        if self.lock is not None:
            try:
                token = await self.lock.acquire(full)
            except RedisUnavailable:
                token = None  # no lock without Redis: compute here
            else:
                if token is None:
                    if refresh:
                        raise _Busy  # another process refreshes it
                    found = await self.lock.wait(lambda: self._lookup_one(full))
                    if found is not None:
                        return found
        try:
            started = time.perf_counter()
            value = await compute()
            took = time.perf_counter() - started
            self.computed += 1
            envelope = Envelope.make(self.serializer.dumps(value), ttl, stale, took, self._tags(tags))
            await self._store(full, envelope)
            return envelope
        finally:
            if token is not None and self.lock is not None:
                await self.lock.release(full, token)

    async def _refresh_now(
        self, full: str, compute: Compute, ttl: float | None, tags: Sequence[str], stale: float
    ) -> tuple[Envelope, bool]:
        return await self._compute(full, compute, ttl, tags, stale, refresh=True), True

    async def _lookup_one(self, full: str) -> Envelope | None:
        (envelope,) = await self._lookup([full])
        return envelope

    # --- the decorator and dependency --------------------------------------------------------

    def __call__(self, fn: Callable[..., Awaitable[Any]] | None = None, **options: Any) -> Any:
        """`@cache(ttl=60, key="user:{user_id}", tags=[...], stale=30)` on an async function
        caches its result; `Depends(cache)` hands the cache to a handler."""
        from .decorator import cached

        if fn is None and not options:
            return self
        if fn is not None:
            return cached(self, **options)(fn)
        return cached(self, **options)

    # --- figures -----------------------------------------------------------------------------

    def figures(self) -> dict[str, dict[str, int]]:
        """Per level: hits, misses, fills, sets, deletes, skipped (level down), and for the
        memory level evictions, entries and bytes. Plus `computed`: values computed here, and
        `subscription_losses`: times the memory level was cleared because the invalidation
        subscription was lost (with a Redis and a memory level)."""
        out = {level.name: level.figures() for level in self.levels}
        out["cache"] = {"computed": self.computed}
        if self.bus is not None:
            out["cache"]["subscription_losses"] = self.bus.losses
        return out

    async def aclose(self) -> None:
        for task in list(self._refreshing):
            task.cancel()
        if self.bus is not None:
            await self.bus.aclose()
        for level in self.levels:
            await level.aclose()


class _Busy(Exception):
    """Another process holds the refresh lock."""
