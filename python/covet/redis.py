"""One policy for every Redis user in covet (sessions, JWT revocation, rate limits, channels).

A web request must never wait on Redis without a bound, nor turn an outage into a 500 and a
traceback per request. So every client covet makes (`connect`):

* has bounded connect and read timeouts, and retries a command once on a fresh connection
  (after a Redis restart, the pooled connections are dead: the retry makes recovery invisible);
* takes its connections from a pool that, when every connection is busy, waits (up to
  `pool_timeout`) instead of failing with "Too many connections". A burst is queued, not
  mistaken for an outage.

And every call goes through a `RedisClient`, which tells the two failures apart:

* **outage** (connection refused or reset, a read timeout: Redis down or frozen): one warning
  on the `covet.redis` logger when it starts, one info line when Redis answers again. For
  `retry_interval` seconds after a failure, calls fail at once instead of each waiting for a
  timeout; then one call at a time tries Redis again, so recovery needs no restart.
* **overload** (the pool stayed busy for `pool_timeout`): Redis is up but this process has more
  requests than connections. Not an outage: nothing is logged as one, nothing is short-cut.

Both raise `RedisUnavailable`, a `ServiceUnavailable` (an `HTTPException`) answered `503` with `Retry-After` and
`{"detail": ...}`, without a traceback. Features that may safely go on without Redis (a rate
limit with `fail_open=True`) catch it and check `outage`. See docs/redis.md.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from covet.exceptions import ServiceUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisClient", "RedisUnavailable", "connect"]

logger = logging.getLogger("covet.redis")
T = TypeVar("T")


class RedisUnavailable(ServiceUnavailable):
    """503 with `Retry-After`: Redis is down or frozen (`outage=True`), or every connection of
    the pool stayed busy for its whole wait (`outage=False`: overload, Redis itself is fine)."""

    def __init__(self, detail: str, *, outage: bool, retry_after: int = 1) -> None:
        super().__init__(detail, retry_after)
        self.outage = outage


def connect(
    url: str,
    *,
    timeout: float = 1.0,
    connect_timeout: float | None = None,
    max_connections: int = 50,
    pool_timeout: float = 5.0,
    retries: int = 1,
    **options: Any,
) -> Redis:
    """A redis.asyncio client with covet's policy (see the module docstring). `timeout` bounds
    each read, `connect_timeout` (default: `timeout`) each connection attempt, `pool_timeout`
    the wait for a free connection; `retries` (1) how often a dropped connection is replaced
    and the command sent again; `options` go to the connection (`decode_responses`...).

    A client's connections belong to the event loop that opened them: make one per loop
    (`RedisClient` does)."""
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout if connect_timeout is None else connect_timeout,
        # Once, on a new connection, and only for a dropped connection: a read timeout is not
        # retried, so a frozen Redis costs a request one `timeout`, not two.
        retry=Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
        **options,
    )
    return Redis(connection_pool=pool)


def _pool_exhausted(exc: BaseException) -> bool:
    """The pool had no connection to give, so Redis was never asked: redis-py's blocking pool
    gives up with ConnectionError("No connection available.") from a TimeoutError; a plain
    pool (a client passed in) raises MaxConnectionsError ("Too many connections") at once."""
    from redis import exceptions

    if isinstance(exc, getattr(exceptions, "MaxConnectionsError", ())):
        return True
    return isinstance(exc, exceptions.ConnectionError) and isinstance(exc.__cause__, asyncio.TimeoutError)


def _safe_url(url: str) -> str:
    """The URL without its password, for the log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


class RedisClient:
    """What a covet feature holds instead of a bare client: `await redis.run(lambda r: r.get(k))`.

    `url_or_client`: a URL (the client is made by `connect`, one per event loop, with
    `timeout`, `pool_timeout`, `max_connections`), or a `redis.asyncio.Redis` of your own (its
    timeouts and pool are yours; errors are still classified and logged the same way). `name`
    says who is speaking in the log ("sessions", "JWT revocation"...).
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        name: str,
        timeout: float = 1.0,
        pool_timeout: float = 5.0,
        max_connections: int = 50,
        retry_interval: float = 1.0,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.pool_timeout = pool_timeout
        self.max_connections = max_connections
        self.retry_interval = retry_interval
        self.url = url_or_client if isinstance(url_or_client, str) else None
        self._client: Redis | None = None if self.url else url_or_client  # type: ignore[assignment]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._probing = False

    @property
    def down(self) -> bool:
        """True from the first failed call of an outage until the first call that succeeds."""
        return self._down_since is not None

    @property
    def client(self) -> Redis:
        """The client for the running event loop (one made from a URL is re-made per loop)."""
        if self.url is None:
            assert self._client is not None
            return self._client
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = connect(
                self.url, timeout=self.timeout, pool_timeout=self.pool_timeout, max_connections=self.max_connections
            )
            self._loop = loop
        return self._client

    async def run(self, call: Callable[[Redis], Awaitable[T]]) -> T:
        """`call(client)`, with failures turned into `RedisUnavailable` and outages logged once."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        probe = self._down_since is not None
        if probe and (self._probing or time.monotonic() < self._retry_at):
            # Down: fail at once, and let a single call at a time find out whether it is back,
            # so a frozen Redis costs one request a `timeout`, not every request in flight.
            raise self._unavailable(outage=True)
        if probe:
            self._probing = True
        try:
            result = await call(self.client)
        except (TimeoutError, RedisConnectionError, RedisTimeoutError, OSError) as exc:
            if _pool_exhausted(exc):
                busy = f"Redis ({self.name}) is busy: every pooled connection is in use; try again shortly"
                raise RedisUnavailable(busy, outage=False) from None
            self._failed(exc)
            raise self._unavailable(outage=True) from None
        finally:
            if probe:
                self._probing = False
        if self._down_since is not None:
            lasted = time.monotonic() - self._down_since
            self._down_since = None
            logger.info("Redis is reachable again (%s, %s) after %.1f s", self.name, self._where(), lasted)
        return result

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + self.retry_interval
        if self._down_since is None:
            self._down_since = now
            logger.warning(
                "Redis unavailable (%s, %s): %s. Answering 503 (or failing open where configured) "
                "until it is back; retried every %g s. See docs/redis.md",
                self.name,
                self._where(),
                (str(exc) or type(exc).__name__).rstrip("."),
                self.retry_interval,
            )

    def _unavailable(self, *, outage: bool) -> RedisUnavailable:
        return RedisUnavailable(
            f"Redis ({self.name}) is unavailable; try again shortly",
            outage=outage,
            retry_after=math.ceil(self.retry_interval),
        )

    def _where(self) -> str:
        return _safe_url(self.url) if self.url else "client passed in"

    async def aclose(self) -> None:
        """Closes a client made from a URL (a client passed in is yours to close)."""
        if self.url is not None and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
