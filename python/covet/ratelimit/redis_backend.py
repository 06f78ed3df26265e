"""`RedisBackend`: one limit shared by every worker and instance, GCRA in one Lua script.

The script reads the clock of the Redis server (`TIME`), so instances with skewed clocks still
agree, and it runs atomically, so concurrent requests from many processes cannot both take the
last unit. It stores one number per key (the theoretical arrival time, in microseconds) with
an expiry at the moment the allowance is full again, so idle keys cost nothing.
"""

from __future__ import annotations

import asyncio
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
    would be exactly the bypass a burst must not get. Checks made during one turn of the event
    loop go to Redis in one pipeline. Keys are `prefix` + rule + client key.
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
        self._queue: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        interval_us = max(1, round(rate.period * 1_000_000 / rate.limit))
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        self._queue.append(((1, self.prefix + key, interval_us, rate.burst, cost), answer))
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        result = await answer
        if isinstance(result, RedisUnavailable):
            if not result.outage:
                raise RedisUnavailable(result.detail, outage=False)  # overload: 503, never a free pass
            raise BackendUnavailable(str(result.detail), logged=True)
        allowed, remaining, reset_us, retry_us = (int(v) for v in result)
        return Decision(bool(allowed), rate.burst, max(0, remaining), reset_us / 1e6, retry_us / 1e6)

    def _flush(self) -> None:
        """Sends every check queued during this turn of the event loop as one pipeline: a burst
        of N concurrent checks costs Redis one round trip and one connection, not N. Each check
        is still one atomic script, so batching changes nothing in what is counted."""
        batch, self._queue = self._queue, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            results: list[Any] = await self.redis.run(lambda client: _gcra_pipeline(client, [a for a, _ in batch]))
        except RedisUnavailable as exc:
            results = [exc] * len(batch)
        except BaseException as exc:  # a bug, or shutting down: no check may wait forever
            for _, answer in batch:
                if answer.done():
                    continue
                if isinstance(exc, Exception):
                    answer.set_exception(exc)
                else:
                    answer.cancel()
            raise
        for (_, answer), result in zip(batch, results, strict=True):
            if answer.done():  # the request went away meanwhile
                continue
            if isinstance(result, Exception) and not isinstance(result, RedisUnavailable):
                answer.set_exception(result)  # a Redis error for this one script (a bug, not an outage)
            else:
                answer.set_result(result)

    async def close(self) -> None:
        await self.redis.aclose()


async def _gcra_pipeline(client: Any, calls: list[tuple[Any, ...]]) -> list[Any]:
    """One EVALSHA per check, in one pipeline; the checks a Redis that does not know the script
    yet (new, restarted, or its script cache flushed) refused are sent again with EVAL."""
    from redis.exceptions import NoScriptError

    async with client.pipeline(transaction=False) as pipe:
        for args in calls:
            pipe.evalsha(GCRA_SHA, *args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
    missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
    if missing:
        async with client.pipeline(transaction=False) as pipe:
            for i in missing:
                pipe.eval(GCRA_SCRIPT, *calls[i])
            for i, result in zip(missing, await pipe.execute(raise_on_error=False), strict=True):
                results[i] = result
    return results
