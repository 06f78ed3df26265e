"""`RedisBackend`: one limit shared by every worker and instance, GCRA in one Lua script.

The script reads the clock of the Redis server (`TIME`), so instances with skewed clocks still
agree, and it runs atomically, so concurrent requests from many processes cannot both take the
last unit. It stores one number per key (the theoretical arrival time, in microseconds) with
an expiry at the moment the allowance is full again, so idle keys cost nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from covet.ratelimit.backends import BackendUnavailable, Decision
from covet.ratelimit.rates import Rate
from covet.redis import RedisClient, RedisUnavailable

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

    Redis is reached through `covet.redis.RedisClient` (docs/redis.md). From a URL, reads and
    connects are bounded by `timeout` (1 s); the pool holds `max_connections` and a burst
    of more concurrent checks waits for one (up to `pool_timeout`) instead of failing, so a
    burst is counted like any other traffic. Only a real outage (refused, reset, timed out)
    raises `BackendUnavailable`, for the rule's `fail_open` to decide; after one, Redis is not
    tried again for `retry_interval` seconds (checks fail at once meanwhile). A pool that stays
    busy past `pool_timeout` answers 503 whatever `fail_open` says: letting the excess through
    would be exactly the bypass a burst must not get. Keys are `prefix` + rule + client key.
    """

    def __init__(
        self,
        url_or_client: Any = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "covet:ratelimit:",
        timeout: float = 1.0,
        retry_interval: float = 1.0,
        max_connections: int = 50,
        pool_timeout: float = 5.0,
    ) -> None:
        self.prefix = prefix
        self.timeout = timeout
        self.retry_interval = retry_interval
        self.redis = RedisClient(
            url_or_client,
            name="rate limit",
            timeout=timeout,
            retry_interval=retry_interval,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
        )

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        interval_us = max(1, round(rate.period * 1_000_000 / rate.limit))
        args = (1, self.prefix + key, interval_us, rate.burst, cost)
        try:
            result = await self.redis.run(lambda client: _gcra(client, args))
        except RedisUnavailable as exc:
            if not exc.outage:
                raise  # overload: 503, never a free pass
            raise BackendUnavailable(str(exc.detail), logged=True) from None
        allowed, remaining, reset_us, retry_us = (int(v) for v in result)
        return Decision(bool(allowed), rate.burst, max(0, remaining), reset_us / 1e6, retry_us / 1e6)

    async def close(self) -> None:
        await self.redis.aclose()


async def _gcra(client: Any, args: tuple[Any, ...]) -> Any:
    """One atomic check: EVALSHA, or EVAL once for a Redis that does not know the script yet
    (new, restarted, or its script cache flushed)."""
    from redis.exceptions import NoScriptError

    try:
        return await client.evalsha(GCRA_SHA, *args)
    except NoScriptError:
        return await client.eval(GCRA_SCRIPT, *args)
