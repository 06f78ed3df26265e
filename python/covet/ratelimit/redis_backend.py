"""`RedisBackend`: one limit shared by every worker and instance, GCRA in one Lua script.

The script reads the clock of the Redis server (`TIME`), so instances with skewed clocks still
agree, and it runs atomically, so concurrent requests from many processes cannot both take the
last unit. It stores one number per key (the theoretical arrival time, in microseconds) with
an expiry at the moment the allowance is full again, so idle keys cost nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from covet.ratelimit.backends import BackendUnavailable, Decision
from covet.ratelimit.rates import Rate

__all__ = ["RedisBackend"]

# KEYS[1] the key; ARGV: emission interval (µs), burst, cost.
# Returns {allowed, remaining, reset_after µs, retry_after µs}.
GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval * tonumber(ARGV[3])
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, math.floor((tolerance - (tat - now)) / interval), tat - now, allow_at - now}
end
local used = new_tat - now
if used > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(used / 1000))
end
return {1, math.floor((tolerance - used) / interval), used, 0}
"""
GCRA_SHA = hashlib.sha1(GCRA_SCRIPT.encode()).hexdigest()


class RedisBackend:
    """GCRA in Redis: `RedisBackend("redis://127.0.0.1:6379/0")` or `RedisBackend(client)` with
    a `redis.asyncio.Redis` you configured yourself.

    From a URL, the client gets short socket timeouts (`timeout`, 0.25 s) and no retries, so an
    unreachable Redis costs a request at most about `timeout`; after a failure Redis is not
    tried again for `retry_interval` seconds, and meanwhile every check raises
    `BackendUnavailable` at once (the limiter then fails open or closed). Keys are
    `prefix` + rule + client key.
    """

    def __init__(
        self,
        url_or_client: Any = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "covet:ratelimit:",
        timeout: float = 0.25,
        retry_interval: float = 1.0,
    ) -> None:
        self.prefix = prefix
        self.timeout = timeout
        self.retry_interval = retry_interval
        self._url = url_or_client if isinstance(url_or_client, str) else None
        self._client: Any = None if self._url else url_or_client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0

    def _redis(self) -> Any:
        """The client; one made from a URL is re-made per event loop (its connections belong
        to the loop that opened them)."""
        if self._url is None:
            return self._client
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = Redis.from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self._loop = loop
        return self._client

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import NoScriptError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        if time.monotonic() < self._down_until:
            raise BackendUnavailable("Redis was unreachable moments ago; not retried yet")
        interval_us = max(1, round(rate.period * 1_000_000 / rate.limit))
        args = (1, self.prefix + key, interval_us, rate.burst, cost)
        try:
            client = self._redis()
            async with asyncio.timeout(self.timeout * 4):
                try:
                    result = await client.evalsha(GCRA_SHA, *args)
                except NoScriptError:
                    result = await client.eval(GCRA_SCRIPT, *args)
        except (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError) as exc:
            self._down_until = time.monotonic() + self.retry_interval
            raise BackendUnavailable(f"Redis unavailable: {exc}") from exc
        allowed, remaining, reset_us, retry_us = (int(v) for v in result)
        return Decision(bool(allowed), rate.burst, max(0, remaining), reset_us / 1e6, retry_us / 1e6)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
