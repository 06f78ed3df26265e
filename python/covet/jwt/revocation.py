"""Where revoked tokens are remembered: a protocol and two stores.

Three kinds of entry, each kept only as long as the tokens it concerns can live:
* a token id (`jti`) revoked by logout;
* a refresh family: the current refresh token of each login, so that a rotated-out refresh
  token used again is detected, and the family revoked with it;
* a subject's cutoff: "log out everywhere" refuses every token of that subject issued before it.

`MemoryRevocationStore` lives in one process (development, tests, a single worker);
`RedisRevocationStore` is shared by every worker and every server that uses the same Redis."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any, Literal, Protocol, runtime_checkable

from covet.redis import RedisClient, RedisUnavailable

__all__ = ["MemoryRevocationStore", "RedisRevocationStore", "RevocationStore", "Rotation"]

Rotation = Literal["rotated", "reused", "unknown"]


@runtime_checkable
class RevocationStore(Protocol):
    """What `JWTAuth` needs from a store. `expires_at` is a Unix time after which the entry
    is useless (the tokens concerned have expired) and may be forgotten."""

    async def revoke_token(self, jti: str, expires_at: float) -> None: ...

    async def revoke_family(self, family: str, expires_at: float) -> None: ...

    async def revoke_subject(self, subject: str, before: float, expires_at: float) -> None: ...

    async def is_revoked(
        self, *, jti: str | None, family: str | None, subject: str | None, issued_at: float | None
    ) -> bool: ...

    async def start_family(self, family: str, jti: str, expires_at: float) -> None: ...

    async def rotate_family(self, family: str, presented: str, successor: str, expires_at: float) -> Rotation:
        """Atomically: if `presented` is the family's current refresh token, make `successor`
        current ("rotated"); if another one is current, "reused"; if the family is not
        known (never started, or expired), "unknown"."""
        ...


class MemoryRevocationStore:
    """In-process store: every entry is a dict value with its expiry time. Not shared between
    workers, so use `RedisRevocationStore` as soon as more than one process serves tokens."""

    def __init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._families: dict[str, float] = {}
        self._subjects: dict[str, tuple[float, float]] = {}
        self._current: dict[str, tuple[str, float]] = {}
        self._writes = 0

    def _sweep(self) -> None:
        # Forget expired entries now and then, so memory follows the number of live tokens.
        self._writes += 1
        if self._writes % 1024:
            return
        now = time.time()
        for table in (self._tokens, self._families):
            for key in [k for k, exp in table.items() if exp <= now]:
                del table[key]
        for key in [k for k, (_, exp) in self._subjects.items() if exp <= now]:
            del self._subjects[key]
        for key in [k for k, (_, exp) in self._current.items() if exp <= now]:
            del self._current[key]

    async def revoke_token(self, jti: str, expires_at: float) -> None:
        self._sweep()
        self._tokens[jti] = max(expires_at, self._tokens.get(jti, 0.0))

    async def revoke_family(self, family: str, expires_at: float) -> None:
        self._sweep()
        self._families[family] = max(expires_at, self._families.get(family, 0.0))
        self._current.pop(family, None)

    async def revoke_subject(self, subject: str, before: float, expires_at: float) -> None:
        self._sweep()
        old_before, old_expiry = self._subjects.get(subject, (0.0, 0.0))
        self._subjects[subject] = (max(before, old_before), max(expires_at, old_expiry))

    async def is_revoked(
        self, *, jti: str | None, family: str | None, subject: str | None, issued_at: float | None
    ) -> bool:
        now = time.time()
        if jti is not None and self._tokens.get(jti, 0.0) > now:
            return True
        if family is not None and self._families.get(family, 0.0) > now:
            return True
        if subject is not None and subject in self._subjects:
            before, expiry = self._subjects[subject]
            if expiry > now and (issued_at is None or issued_at < before):
                return True
        return False

    async def start_family(self, family: str, jti: str, expires_at: float) -> None:
        self._sweep()
        self._current[family] = (jti, expires_at)

    async def rotate_family(self, family: str, presented: str, successor: str, expires_at: float) -> Rotation:
        current = self._current.get(family)
        if current is None or current[1] <= time.time():
            return "unknown"
        if current[0] != presented:
            return "reused"
        self._current[family] = (successor, expires_at)
        return "rotated"


# Compare-and-set of a family's current refresh token, atomic in Redis.
_ROTATE = """
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


def _ttl_ms(expires_at: float) -> int:
    return math.ceil((expires_at - time.time()) * 1000)


class RedisRevocationStore:
    """Redis store (redis.asyncio). Every key expires with the tokens it concerns
    (TTL = exp - now), so Redis never holds more than the live tokens' worth of entries.

    Keys, under `prefix`: `jti:<id>`, `family:<id>` (the current refresh token id),
    `family-revoked:<id>`, `subject:<sub>` (the log-out-everywhere cutoff).

    Redis is reached through `covet.redis.RedisClient` (bounded `timeout`, one warning per
    outage, recovery without a restart: docs/redis.md). While Redis is down or frozen, a
    token's revocation cannot be checked: by default the request gets `503` with
    `Retry-After` (fail closed: a logged-out token is never accepted). `fail_open=True` accepts
    tokens that verify, unchecked, during the outage: only for apps where a revoked token
    living a few more minutes (at most its `exp`) is better than refusing everyone. Logins,
    refreshes and logouts need Redis either way (503)."""

    def __init__(
        self,
        redis: Any | str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "covet:jwt:",
        fail_open: bool = False,
        timeout: float = 1.0,
        retry_interval: float = 1.0,
    ) -> None:
        self.client = RedisClient(redis, name="JWT revocation", timeout=timeout, retry_interval=retry_interval)
        self.prefix = prefix
        self.fail_open = fail_open
        self._rotate_sha = hashlib.sha1(_ROTATE.encode()).hexdigest()

    @property
    def redis(self) -> Any:
        """The redis.asyncio client for the running event loop."""
        return self.client.client

    async def _set(self, key: str, value: str, expires_at: float) -> None:
        ttl = _ttl_ms(expires_at)
        if ttl > 0:  # an entry for tokens that are already dead is not worth writing
            await self.client.run(lambda r: r.set(self.prefix + key, value, px=ttl))

    async def revoke_token(self, jti: str, expires_at: float) -> None:
        await self._set(f"jti:{jti}", "1", expires_at)

    async def revoke_family(self, family: str, expires_at: float) -> None:
        await self._set(f"family-revoked:{family}", "1", expires_at)
        await self.client.run(lambda r: r.delete(f"{self.prefix}family:{family}"))

    async def revoke_subject(self, subject: str, before: float, expires_at: float) -> None:
        await self._set(f"subject:{subject}", repr(before), expires_at)

    async def is_revoked(
        self, *, jti: str | None, family: str | None, subject: str | None, issued_at: float | None
    ) -> bool:
        keys = [self.prefix + k for k in (f"jti:{jti}", f"family-revoked:{family}", f"subject:{subject}")]
        try:
            token, fam, cutoff = await self.client.run(lambda r: r.mget(keys))
        except RedisUnavailable as exc:
            if self.fail_open and exc.outage:
                return False  # the outage itself is logged once by covet.redis
            raise
        if (jti is not None and token) or (family is not None and fam):
            return True
        return subject is not None and cutoff is not None and (issued_at is None or issued_at < float(cutoff))

    async def start_family(self, family: str, jti: str, expires_at: float) -> None:
        await self._set(f"family:{family}", jti, expires_at)

    async def rotate_family(self, family: str, presented: str, successor: str, expires_at: float) -> Rotation:
        from redis.exceptions import NoScriptError

        ttl = max(_ttl_ms(expires_at), 1)
        args = (1, f"{self.prefix}family:{family}", presented, successor, ttl)

        async def rotate(r: Any) -> Any:
            try:
                return await r.evalsha(self._rotate_sha, *args)
            except NoScriptError:  # a Redis that restarted (or was flushed) since the last call
                return await r.eval(_ROTATE, *args)

        result = await self.client.run(rotate)
        return {1: "rotated", 0: "reused"}.get(int(result), "unknown")  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Closes the client, also one passed in (as this store always has)."""
        if self.client.url is None:
            await self.redis.aclose()
        await self.client.aclose()
