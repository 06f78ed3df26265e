"""`DriverPool`: asyncpg's connections for `Database.connection()`, the lean path.

SQLAlchemy's pool is built for sessions: each checkout goes through a greenlet, a timeout
scope and the pool's events, which on a one-query endpoint costs as much CPU as the query.
The lean path hands out the driver's own connection and needs none of that, so it keeps its
own pool of them, with the same settings (`pool_size`, `max_overflow`, `pool_timeout`,
`pool_recycle`, `pool_pre_ping`) and the same errors: a wait past `pool_timeout` raises
SQLAlchemy's `TimeoutError` (covet's `PoolTimeout` when SQLAlchemy is not loaded: this pool
never loads it), which covet answers with a 503.

Taking an idle connection and giving it back neither awaits nor looks up the event loop; only
a request that has to wait for one does. A connection comes back clean or not at all: one
left in a transaction is rolled back; one whose block was cancelled mid-query, or failed with
an error saying the connection broke (asyncpg's "another operation is in progress" after a
fast stop's FATAL, a closed socket), is terminated; one the database dropped is forgotten (a
new one is opened when needed). A broken connection is never handed out twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from covet.db.errors import connection_broken, pool_timeout

__all__ = ["DriverPool"]

logger = logging.getLogger("covet.db")

Connect = Callable[[], Awaitable[Any]]

# Called with each connection the lean path opens, before its first use: covet.tracing adds
# asyncpg's query logger here, so that this module never imports OpenTelemetry.
connection_hooks: list[Callable[[Any], None]] = []


class _Held:
    """A pooled connection and when it was opened (for `pool_recycle`)."""

    __slots__ = ("conn", "opened")

    def __init__(self, conn: Any, opened: float) -> None:
        self.conn = conn
        self.opened = opened


class DriverPool:
    """At most `size + overflow` driver connections, opened on demand, `size` kept idle."""

    def __init__(
        self, connect: Connect, *, size: int, overflow: int, timeout: float, recycle: float, pre_ping: bool
    ) -> None:
        self._connect = connect
        self.size = size
        self.limit = size + max(overflow, 0)
        self.timeout = timeout
        self.recycle = recycle
        self.pre_ping = pre_ping
        self._idle: list[_Held] = []  # the most recently used last: it is the one taken next
        self._open = 0  # connections that exist or are being opened
        self._waiters: deque[tuple[asyncio.Future[_Held | None], float]] = deque()  # and deadlines
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()  # made on the loop it serves (Database.connect)
        self._closed = False

    def connection(self) -> _Checkout:
        """`async with pool.connection() as conn`: a driver connection for the block."""
        return _Checkout(self)

    async def acquire(self) -> _Held:
        if self._closed:
            raise RuntimeError("The database is disconnected")
        while self._idle:
            held = self._idle.pop()
            if held.conn.is_closed():  # the database ended it while it sat idle
                self._forget()
                continue
            if self.pre_ping and not await self._alive(held):
                continue
            return held
        if self._open < self.limit:
            self._open += 1
            return await self._new()
        return await self._wait()

    async def release(self, held: _Held, failed: BaseException | None) -> None:
        """Gives a connection back, clean, or closes it."""
        conn = held.conn
        if conn.is_closed():
            self._forget()
            return
        if failed is not None and _unusable(failed):
            # Cut off mid-query, or broken under it: the connection's state is unknown.
            self._discard(held)
            return
        if self._closed or (self.recycle >= 0 and time.monotonic() - held.opened > self.recycle):
            await self._close(held)
            return
        if conn.is_in_transaction():  # left open by the block: end it before anyone else comes
            try:
                await conn.execute("ROLLBACK")
            except BaseException as exc:
                logger.warning("Dropping a pooled connection whose transaction did not roll back: %r", exc)
                self._discard(held)
                if not isinstance(exc, Exception):
                    raise
                return
        if not self._give_back(held):  # an overflow connection: not kept once the rush is over
            await self._close(held)

    def _give_back(self, held: _Held) -> bool:
        """To the first waiter, else to the idle ones if there is room; False if neither."""
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return True
        if len(self._idle) < self.size:
            self._idle.append(held)
            return True
        return False

    def _discard(self, held: _Held) -> None:
        """Ends a connection whose state is unknown at once (no goodbye to the server)."""
        held.conn.terminate()
        self._forget()

    def _forget(self) -> None:
        """A connection is gone: a waiter may open one in its place."""
        self._open -= 1
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                self._open += 1
                waiter.set_result(None)
                return

    async def _new(self) -> _Held:
        """Opens a connection in a slot already counted in `_open`."""
        try:
            conn = await self._connect()
        except BaseException:
            self._forget()
            raise
        for hook in connection_hooks:
            hook(conn)
        return _Held(conn, time.monotonic())

    async def _alive(self, held: _Held) -> bool:
        try:
            await held.conn.execute("SELECT 1")
        except Exception:
            self._discard(held)
            return False
        except BaseException:  # cancelled mid-ping: neither handed out nor kept
            self._discard(held)
            raise
        return True

    async def _close(self, held: _Held) -> None:
        try:
            await held.conn.close(timeout=self.timeout)
        except Exception:
            held.conn.terminate()
        finally:
            self._forget()

    async def _wait(self) -> _Held:
        """Waits in line for a connection, or a slot to open one in. Every wait is as long and
        the line is first come first served, so the deadlines are in order: one timer, set for
        the first in line, serves them all (an `asyncio.timeout` per wait showed in profiles)."""
        waiter: asyncio.Future[_Held | None] = self._loop.create_future()
        self._waiters.append((waiter, self._loop.time() + self.timeout))
        if self._timer is None:
            self._timer = self._loop.call_at(self._waiters[0][1], self._expire)
        try:
            held = await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():  # still in line, unless a release already passed it by
                for entry in self._waiters:
                    if entry[0] is waiter:
                        self._waiters.remove(entry)
                        break
            elif waiter.exception() is None:  # given a connection (or a slot) as it was cancelled
                given = waiter.result()
                if given is None:
                    self._forget()
                elif not self._give_back(given):
                    given.conn.terminate()
                    self._forget()
            raise
        return held if held is not None else await self._new()

    def _expire(self) -> None:
        """The timer: those at the front of the line whose time is up get a TimeoutError."""
        self._timer = None
        now = self._loop.time()
        while self._waiters and self._waiters[0][1] <= now:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(
                    pool_timeout(
                        f"No database connection came free within {self.timeout:g}s "
                        f"({self.limit} in use, {len(self._waiters)} more waiting)"
                    )
                )
        if self._waiters:
            self._timer = self._loop.call_at(self._waiters[0][1], self._expire)

    async def close(self) -> None:
        """Closes the idle connections now; those in use close as their blocks end."""
        self._closed = True
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("The database is disconnected"))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle, self._idle = self._idle, []
        for held in idle:
            await self._close(held)

    def stats(self) -> dict[str, int]:
        return {
            "driver_open": self._open,
            "driver_idle": len(self._idle),
            "driver_in_use": self._open - len(self._idle),
            "driver_waiting": len(self._waiters),
        }


def _unusable(exc: BaseException) -> bool:
    """A block that ended this way may have left an operation in flight or the socket dead."""
    return isinstance(exc, asyncio.CancelledError | TimeoutError) or connection_broken(exc)


class _Checkout:
    """The `async with` of `DriverPool.connection()` (a class: cheaper than a generator)."""

    __slots__ = ("_pool", "_held")

    def __init__(self, pool: DriverPool) -> None:
        self._pool = pool
        self._held: _Held | None = None

    async def __aenter__(self) -> Any:
        self._held = await self._pool.acquire()
        return self._held.conn

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._pool.release(held, exc)
