"""`Database`: one SQLAlchemy async engine per app, opened and closed with the app's lifespan,
and the per-request session dependency.

covet does not write an ORM: models, queries and sessions are SQLAlchemy 2's own. What this
module adds is the wiring a web app needs around them (pool settings, lifespan, one session per
request that commits before the response is built, a health check and pool figures).

SQLAlchemy is loaded when a feature of its is used, not on import: an app whose only access
is the lean path (`db.connection()` on PostgreSQL, `db.prepare("SQL text")`) never loads it
and saves a worker about 19 MiB. Such an app's engine is made on first use of `db.engine` (a
session, a ping...); one that has loaded SQLAlchemy by startup gets it at startup, as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from covet.db.errors import CommitOutcomeUnknown, connection_broken, install_sqlalchemy_handler, never_sent
from covet.db.pool import DriverPool
from covet.db.statements import PreparedStatement
from covet.requests import Request

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

__all__ = ["Database", "DEFAULT_URL"]

logger = logging.getLogger("covet.db")

# The embedded default, so an app runs with nothing installed or configured.
DEFAULT_URL = "sqlite+aiosqlite:///./covet.db"

SeedFunction = Callable[["AsyncSession"], Awaitable[Any]]


def _normalise_url(url: str) -> str:
    """Plain `postgresql://` and `sqlite://` URLs get the async drivers covet is tested with."""
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def _asyncpg_kwargs(url: str) -> dict[str, Any] | None:
    """asyncpg.connect's arguments for a plain `postgresql+asyncpg://user:pw@host:port/db`
    URL, the ones SQLAlchemy's dialect would give; None for anything else (a query string,
    several hosts, an encoded host), which SQLAlchemy's dialect translates."""
    scheme, _, rest = url.partition("://")
    if scheme != "postgresql+asyncpg" or any(c in rest for c in "?#,"):
        return None
    parts = urlsplit("postgresql://" + rest)
    if "%" in parts.netloc.rpartition("@")[2]:  # an encoded socket path: SQLAlchemy's reading
        return None
    found = {
        "host": parts.hostname,
        "database": unquote(parts.path[1:]) if parts.path else None,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "port": parts.port,
    }
    return {key: value for key, value in found.items() if value not in (None, "")}


class Database:
    """An async engine and its sessions, tied to an app's lifespan.

    `pool_size`, `max_overflow`, `pool_timeout` (seconds to wait for a connection before a 503),
    `pool_recycle` (seconds before a connection is replaced) and `pool_pre_ping` (check a
    connection before handing it out, so a restarted database is noticed) are SQLAlchemy's pool
    options, which the lean path's own pool of asyncpg connections (covet.db.pool) follows too;
    any other keyword goes to `create_async_engine` as is.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        metadata: MetaData | None = None,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 30.0,
        pool_recycle: float = 1800.0,
        pool_pre_ping: bool = True,
        retry_after: int = 5,
        **engine_options: Any,
    ) -> None:
        self._engine: AsyncEngine | None = None
        self._connected = False
        self._apps: list[Any] = []  # to answer SQLAlchemy's errors on once it is loaded
        self.url = url or os.environ.get("DATABASE_URL") or DEFAULT_URL
        self.metadata = metadata
        self.retry_after = retry_after
        self.pool_options = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
        }
        self.engine_options = {"pool_pre_ping": pool_pre_ping, **engine_options}
        self.seeds: list[SeedFunction] = []
        self.pool_timeouts = 0  # counted by the error handlers, for metrics
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._driver_pool: DriverPool | None = None
        self._test_connection: AsyncConnection | None = None

    @property
    def url(self) -> str:
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        """Changeable until the app starts (a test pointing the app at its own database)."""
        if self._connected:
            raise RuntimeError("The database is connected: change its URL before startup")
        self._url = _normalise_url(value)

    def __repr__(self) -> str:
        from sqlalchemy.engine import make_url

        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """The backend's name without the driver: "postgresql" or "sqlite"."""
        return self.url.partition("://")[0].partition("+")[0]

    @property
    def driver(self) -> str:
        """The driver's name: "asyncpg" or "aiosqlite" (for the URLs covet normalises)."""
        return self.url.partition("://")[0].partition("+")[2]

    # --- lifecycle ---------------------------------------------------------------------------

    def init_app(self, app: Any) -> None:
        """Opens the engine at the app's startup and disposes of it at shutdown, and maps
        database errors to HTTP answers (409, 422, 503) on this app."""
        from covet.db.errors import install_error_handlers

        app.on_startup_handlers.append(self.connect)
        app.on_shutdown_handlers.append(self.disconnect)
        self._apps.append(app)
        extensions = getattr(app, "extensions", None)
        if extensions is None:
            extensions = app.extensions = {}
        extensions["db"] = self
        install_error_handlers(app, self)

    async def connect(self) -> None:
        """Creates the engine (connections are opened on first use, or by `ping()`); for an
        app that has not loaded SQLAlchemy and a plain asyncpg URL, only the lean path's pool,
        the engine waiting for its first use."""
        if self._connected:
            return
        kwargs = _asyncpg_kwargs(self.url) if "sqlalchemy" not in sys.modules else None
        if kwargs is not None:
            self._driver_pool = self._make_driver_pool(kwargs)
        else:
            self._create_engine()
        self._connected = True

    def _create_engine(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import make_url
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlalchemy.pool import StaticPool

        options: dict[str, Any] = dict(self.engine_options)
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            # One in-memory database lives in one connection: share it.
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            options.update(self.pool_options)
        engine = create_async_engine(self.url, **options)
        if url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
            event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        self._engine = engine
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        if self._driver_pool is None and engine.dialect.driver == "asyncpg":
            args, kwargs = engine.dialect.create_connect_args(engine.url)
            self._driver_pool = self._make_driver_pool(kwargs, args)
        for app in self._apps:
            install_sqlalchemy_handler(app, self)

    def _make_driver_pool(self, kwargs: dict[str, Any], args: Any = ()) -> DriverPool:
        """asyncpg's connections for the lean path, opened with the engine's arguments."""
        import asyncpg

        kwargs.update(self.engine_options.get("connect_args", {}))
        for sqlalchemy_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
            kwargs.pop(sqlalchemy_only, None)
        creator = kwargs.pop("async_creator_fn", asyncpg.connect)
        options = self.pool_options
        return DriverPool(
            lambda: creator(*args, **kwargs),
            size=options["pool_size"],
            overflow=options["max_overflow"],
            timeout=options["pool_timeout"],
            recycle=options["pool_recycle"],
            pre_ping=self.engine_options["pool_pre_ping"],
        )

    async def disconnect(self) -> None:
        self._connected = False
        engine, self._engine, self._sessionmaker = self._engine, None, None
        driver_pool, self._driver_pool = self._driver_pool, None
        if driver_pool is not None:
            await driver_pool.close()
        if engine is not None:
            await engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            if not self._connected:
                raise RuntimeError(
                    "The database is not connected: call db.init_app(app) (it connects at startup) "
                    "or `await db.connect()` first"
                )
            self._create_engine()  # the lean path's app now uses SQLAlchemy too
        assert self._engine is not None
        return self._engine

    # --- sessions ----------------------------------------------------------------------------

    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Makes sessions bound to the engine, or to the test's outer transaction."""
        if self._test_connection is not None:
            from sqlalchemy.ext.asyncio import async_sessionmaker

            return async_sessionmaker(
                bind=self._test_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        self.engine  # noqa: B018 - a clear error when not connected
        assert self._sessionmaker is not None
        return self._sessionmaker

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on leaving the block, or rolls back if it raises.

        The pending changes are flushed before COMMIT is sent, so that a failure up to there
        is a known rollback (answered as usual), and only a connection lost while COMMIT itself
        was in flight raises `CommitOutcomeUnknown`: the server may have committed it."""
        async with self.sessionmaker()() as session:
            try:
                yield session
                await session.flush()
            except BaseException:
                await session.rollback()
                raise
            try:
                await session.commit()
            except Exception as exc:
                if connection_broken(exc) and not never_sent(exc):
                    raise CommitOutcomeUnknown() from exc
                raise

    async def session(self, request: Request) -> AsyncSession:
        """The dependency: `session: AsyncSession = Depends(db.session)`.

        One session per request (shared by every dependency that asks for it). It commits
        when the handler returns and rolls back when it raises, before the response is built,
        so a constraint that fails at commit still answers 409 rather than a 200 for a write
        that did not happen.
        """
        key = f"covet_db_session_{id(self)}"
        existing = getattr(request.state, key, None)
        if existing is not None:  # get_or_404 and the handler share it
            return existing  # type: ignore[no-any-return]
        ctx = request._ctx
        if ctx is None:
            raise RuntimeError("db.session is a dependency: declare it with Depends(db.session)")
        session = await ctx.handler_exit_stack().enter_async_context(self.transaction())
        setattr(request.state, key, session)
        return session

    # --- the lean path ---------------------------------------------------------------------------

    def prepare(self, statement: Any) -> PreparedStatement:
        """`statement` (SQLAlchemy Core, or SQL text with `:name` parameters) compiled once for
        this database: see covet.db.statements. Text needs no SQLAlchemy."""
        if isinstance(statement, str):
            return PreparedStatement.from_text(statement, self.driver)
        return PreparedStatement(statement, self.engine.dialect)

    def connection(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """The driver's own connection (asyncpg's, aiosqlite's) for the block, for
        `PreparedStatement`s. asyncpg's come from a pool of their own (covet.db.pool) with the
        same settings as the sessions' pool; aiosqlite's from SQLAlchemy's."""
        if self._driver_pool is not None:
            return self._driver_pool.connection()
        return self._raw_connection()

    @contextlib.asynccontextmanager
    async def _raw_connection(self) -> AsyncIterator[Any]:
        from sqlalchemy.util import greenlet_spawn

        raw = await self.engine.raw_connection()
        try:
            yield raw.driver_connection
        finally:
            await greenlet_spawn(raw.close)  # its reset on return awaits the driver

    async def warm(self, count: int | None = None) -> None:
        """Opens `count` (default: pool_size) of the connections `connection()` hands out now,
        so that no request waits for one to be made (benchmarks, latency-sensitive services)."""
        count = count or self.pool_options["pool_size"]
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(count):
                await stack.enter_async_context(self.connection())

    # --- health and metrics ------------------------------------------------------------------

    async def ping(self) -> bool:
        """True when a round trip to the database succeeds (for a health endpoint); on the
        lean path's connections while the app has not used SQLAlchemy."""
        try:
            if self._engine is None and self._driver_pool is not None:
                async with self.connection() as raw:
                    await raw.execute("SELECT 1")
                return True
            from sqlalchemy import text

            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            logger.warning("Database ping failed: %s", type(exc).__name__)
            return False
        return True

    def pool_stats(self) -> dict[str, int]:
        """The connection pool's figures: size, checked out, idle, overflow, timeouts so far."""
        if self._engine is None and not self._connected:
            self.engine  # noqa: B018 - a clear error when not connected
        pool: Any = self._engine.pool if self._engine is not None else None
        stats = {"size": 0, "checked_out": 0, "checked_in": 0, "overflow": 0, "timeouts": self.pool_timeouts}
        if pool is None:  # no engine yet: what its idle pool would report
            size = self.pool_options["pool_size"]
            stats.update(size=size, overflow=-size)
        elif hasattr(pool, "checkedout"):
            stats.update(
                size=pool.size(), checked_out=pool.checkedout(), checked_in=pool.checkedin(), overflow=pool.overflow()
            )
        if self._driver_pool is not None:
            stats.update(self._driver_pool.stats())
        return stats

    # --- schema and seeds --------------------------------------------------------------------

    def seed(self, func: SeedFunction) -> SeedFunction:
        """Registers `async def func(session)` for `covet db seed` (run in order, one
        transaction; write it with `get_or_create`/upserts so running it twice changes nothing)."""
        self.seeds.append(func)
        return func

    async def run_seeds(self) -> None:
        async with self.transaction() as session:
            for func in self.seeds:
                await func(session)

    async def create_all(self) -> None:
        """Creates the metadata's tables that are missing (tests and quick starts; use
        migrations for real databases)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(self._require_metadata().create_all)

    async def drop_all(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(self._require_metadata().drop_all)

    def _require_metadata(self) -> MetaData:
        if self.metadata is None:
            raise RuntimeError("Database(url, metadata=Base.metadata) is needed for this")
        return self.metadata

    # --- tests ---------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def rollback_after(self) -> AsyncIterator[AsyncConnection]:
        """Every session made inside the block joins one outer transaction, rolled back on
        exit: a test's writes (commits included, as savepoints) leave nothing behind."""
        async with self.engine.connect() as conn:
            outer = await conn.begin()
            self._test_connection = conn
            try:
                yield conn
            finally:
                self._test_connection = None
                if outer.is_active:
                    await outer.rollback()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLite leaves foreign keys unchecked unless asked, per connection. The driver's own
    transaction handling is turned off (SQLAlchemy emits BEGIN, below) so that savepoints
    work; WAL lets readers go on while one request writes."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")
