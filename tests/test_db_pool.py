"""The lean path's own pool (covet.db.pool) against the real PostgreSQL: connections reused,
the limit held under load, a wait past `pool_timeout` answered 503, connections the database
dropped or a block left dirty never handed out again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from covet import Covet
from covet.db import Database
from covet.db.testing import temporary_database
from covet.testclient import TestClient
from tests.conftest import PG_SERVER_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database(PG_SERVER_URL, prefix="covet_test_pool_") as url:
        yield url


def run(db: Database, body: Any) -> Any:
    """Runs `body(db)` with `db` connected, and disconnects it after."""

    async def main() -> Any:
        await db.connect()
        try:
            return await body(db)
        finally:
            await db.disconnect()

    return asyncio.run(main())


async def terminate(url: str, pid: int) -> None:
    """Ends backend `pid` from a connection of its own, as an administrator (or a restart) would."""
    import asyncpg

    admin = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def backend_pid(db: Database) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT pg_backend_pid()")  # type: ignore[no-any-return]


def test_connections_are_reused_and_warm_opens_pool_size(pg_url: str) -> None:
    async def body(db: Database) -> None:
        await db.warm()
        stats = db.pool_stats()
        assert (stats["driver_open"], stats["driver_idle"], stats["driver_in_use"]) == (3, 3, 0)
        pids = {await backend_pid(db) for _ in range(10)}
        assert len(pids) == 1  # the most recently used one, every time
        assert db.pool_stats()["driver_open"] == 3

    run(Database(pg_url, pool_size=3, max_overflow=0, pool_pre_ping=False), body)


def test_the_limit_holds_under_load_and_overflow_is_not_kept(pg_url: str) -> None:
    async def body(db: Database) -> None:
        peak = 0

        async def query(i: int) -> int:
            nonlocal peak
            async with db.connection() as conn:
                peak = max(peak, db.pool_stats()["driver_in_use"])
                return await conn.fetchval("SELECT $1::int FROM pg_sleep(0.01)", i)  # type: ignore[no-any-return]

        results = await asyncio.gather(*(query(i) for i in range(20)))
        assert results == list(range(20))
        assert peak == 4  # pool_size 2 + max_overflow 2
        stats = db.pool_stats()
        assert (stats["driver_open"], stats["driver_idle"], stats["driver_waiting"]) == (2, 2, 0)

    run(Database(pg_url, pool_size=2, max_overflow=2, pool_pre_ping=False), body)


def test_waiting_past_pool_timeout_raises_and_answers_503(pg_url: str) -> None:
    db = Database(pg_url, pool_size=1, max_overflow=0, pool_timeout=0.2, pool_pre_ping=False)
    app = Covet()
    db.init_app(app)

    @app.get("/query")
    async def query() -> dict[str, int]:
        async with db.connection() as conn:
            return {"one": await conn.fetchval("SELECT 1")}

    with TestClient(app) as client:
        pool = db._driver_pool
        assert pool is not None
        held = client._loop.run_until_complete(pool.acquire())  # the only connection, taken
        with pytest.raises(sa_exc.TimeoutError):
            client._loop.run_until_complete(pool.acquire())
        refused = client.get("/query")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert refused.json()["detail"]
        assert db.pool_stats()["timeouts"] == 1
        client._loop.run_until_complete(pool.release(held, None))
        assert client.get("/query").json() == {"one": 1}
        assert db.pool_stats()["driver_waiting"] == 0


def test_a_connection_the_database_ended_is_replaced(pg_url: str) -> None:
    async def body(db: Database) -> None:
        first = await backend_pid(db)
        await terminate(pg_url, first)
        await asyncio.sleep(0.1)  # the idle connection learns its socket is closed
        second = await backend_pid(db)
        assert second != first
        assert db.pool_stats()["driver_open"] <= 2

    run(Database(pg_url, pool_size=2, max_overflow=0, pool_pre_ping=False), body)


def test_pre_ping_notices_what_the_socket_has_not_told_yet(pg_url: str) -> None:
    async def body(db: Database) -> None:
        first = await backend_pid(db)
        await terminate(pg_url, first)
        assert await backend_pid(db) != first  # no pause: the ping finds it dead

    run(Database(pg_url, pool_size=2, max_overflow=0, pool_pre_ping=True), body)


def test_a_block_leaves_no_transaction_and_no_cancelled_query_behind(pg_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMPORARY TABLE t (x int)")
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.t')") is None  # rolled back

        async def slow() -> None:
            async with db.connection() as conn:
                await conn.execute("SELECT pg_sleep(5)")

        task = asyncio.ensure_future(slow())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await backend_pid(db) != pid  # the interrupted connection was not reused
        assert db.pool_stats()["driver_open"] == 1

    run(Database(pg_url, pool_size=1, max_overflow=0, pool_pre_ping=False), body)


def test_old_connections_are_recycled(pg_url: str) -> None:
    async def body(db: Database) -> None:
        first = await backend_pid(db)
        await asyncio.sleep(0.2)
        assert await backend_pid(db) == first  # recycled when given back, after this use
        assert await backend_pid(db) != first

    run(Database(pg_url, pool_size=1, max_overflow=0, pool_recycle=0.1, pool_pre_ping=False), body)


def test_disconnect_closes_connections_and_refuses_more(pg_url: str) -> None:
    db = Database(pg_url, pool_size=2, max_overflow=0, pool_pre_ping=False)

    async def body() -> None:
        await db.connect()
        await db.warm()
        pool = db._driver_pool
        assert pool is not None
        await db.disconnect()
        assert pool.stats()["driver_open"] == 0
        with pytest.raises(RuntimeError):
            async with pool.connection():
                pass

    asyncio.run(body())


def test_sqlite_keeps_sqlalchemys_pool(tmp_path: Any) -> None:
    async def body(db: Database) -> None:
        assert db._driver_pool is None
        async with db.connection() as conn:
            async with conn.execute("SELECT 41 + 1") as cursor:
                assert (await cursor.fetchone())[0] == 42
        assert "driver_open" not in db.pool_stats()

    run(Database(f"sqlite:///{tmp_path}/pool.db"), body)
