"""The lean pool (covet.db.pool) when PostgreSQL drops its connections mid-use: a connection
broken in the middle of an operation is terminated and never handed out again, and the
request gets 503, never asyncpg's own error as a 500. A private cluster is used (stopped,
its backends terminated), never the shared server."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import httpx
import pytest

from covet.db import Database, describe
from tests.backends import PrivateCluster
from tests.conftest import wait_for


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


async def _half_closed(db: Database, admin: Any) -> int:
    """Leaves the pool's idle connection in the state a fast stop can leave it in: the
    server's FATAL read, its end of file not yet. The backend is terminated and waited for
    with the event loop held, so both wait in the socket; one turn of the loop then reads the
    message and the next request runs before the turn that would read the end of file."""
    async with db.connection() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
    await admin.execute("SELECT pg_terminate_backend($1)", pid)
    wait_for(lambda: _gone(pid), "the terminated backend to exit")  # blocks the loop on purpose
    await asyncio.sleep(0)
    return int(pid)


def test_a_connection_broken_mid_operation_is_discarded_and_answered_503(cluster: PrivateCluster) -> None:
    import asyncpg

    async def main() -> list[str]:
        db = Database(cluster.url, pool_size=1, max_overflow=0, pool_pre_ping=False)
        await db.connect()
        admin = await asyncpg.connect(cluster.url)
        seen: list[str] = []
        try:
            for _ in range(20):
                dead = await _half_closed(db, admin)
                try:
                    async with db.connection() as conn:
                        await conn.fetchval("SELECT 1")
                except Exception as exc:  # the broken connection's error, whichever it is
                    seen.append(type(exc).__name__)
                    answer = describe(exc)
                    assert answer is not None and answer.status == 503, repr(exc)
                async with db.connection() as conn:  # never the broken one again
                    assert await conn.fetchval("SELECT pg_backend_pid()") != dead
                assert db.pool_stats()["driver_open"] == 1
        finally:
            await admin.close()
            await db.disconnect()
        return seen

    seen = asyncio.run(main())
    assert "InternalClientError" in seen, seen


def test_a_connection_left_mid_operation_is_discarded_and_answered_503(cluster: PrivateCluster) -> None:
    """A block whose query is still in flight when it uses the connection again gets asyncpg's
    "another operation is in progress": the connection is not handed out again."""

    async def main() -> None:
        db = Database(cluster.url, pool_size=1, max_overflow=0, pool_pre_ping=False)
        await db.connect()
        try:
            with pytest.raises(Exception) as raised:
                async with db.connection() as conn:
                    first = await conn.fetchval("SELECT pg_backend_pid()")
                    in_flight = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.2)"))
                    await asyncio.sleep(0)  # sent
                    await conn.fetchval("SELECT 1")
            in_flight.cancel()
            answer = describe(raised.value)
            assert answer is not None and answer.status == 503, repr(raised.value)
            async with db.connection() as conn:
                assert await conn.fetchval("SELECT pg_backend_pid()") != first
        finally:
            await db.disconnect()

    asyncio.run(main())


@pytest.mark.parametrize("where", ["pre-ping", "rollback on return"])
def test_a_request_cut_off_while_the_pool_waits_on_a_hung_server_leaks_no_slot(
    cluster: PrivateCluster, where: str
) -> None:
    """The server hangs (frozen) while the pool pings a connection before handing it out, or
    rolls back the transaction a block left open; the request's deadline cancels it. The
    connection is dropped, and its slot is free again once the server is back."""

    async def main() -> None:
        db = Database(cluster.url, pool_size=1, max_overflow=0, pool_timeout=2, pool_pre_ping=where == "pre-ping")
        await db.connect()
        try:
            await db.warm()

            async def request() -> None:
                async with db.connection() as conn:
                    if where == "rollback on return":
                        await conn.execute("BEGIN")
                        cluster.freeze()

            if where == "pre-ping":
                cluster.freeze()
            try:
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(request(), 1.0)
            finally:
                cluster.thaw()
            assert db.pool_stats()["driver_open"] == 0
            async with db.connection() as conn:  # the one slot: free, not leaked
                assert await conn.fetchval("SELECT 1") == 1
        finally:
            await db.disconnect()

    asyncio.run(main())


class Load:
    """Clients asking the lean path for a count without pause, each answer's status kept."""

    def __init__(self, url: str, clients: int = 6) -> None:
        self.url = url
        self.statuses: list[int] = []
        self.bodies: dict[int, str] = {}
        self.running = True
        self.threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while self.running:
                response = client.get("/lean/count")
                self.statuses.append(response.status_code)
                self.bodies.setdefault(response.status_code, response.text)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.running = False
        for thread in self.threads:
            thread.join()

    def expect(self, status: int, what: str, timeout: float = 15.0) -> None:
        """Waits for an answer with `status` among those that come from now on."""
        mark = len(self.statuses)
        wait_for(lambda: status in self.statuses[mark:], what, timeout)


def _terminate_app_backends(cluster: PrivateCluster) -> list[int]:
    import asyncpg

    async def run() -> list[int]:
        conn = await asyncpg.connect(cluster.url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [r[0] for r in rows])
            return [r[0] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(run())


def test_backends_killed_and_fast_stops_under_load_answer_only_2xx_or_503(
    cluster: PrivateCluster, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six clients keep reading through db.connection() while the backends are terminated
    (five times) and the cluster is stopped in fast mode and started again (three times)."""
    monkeypatch.setenv("DATABASE_URL", cluster.url)
    server = serve("tests.apps.db_faults_app:app", "--no-access-log")
    with server.client() as client:
        assert client.get("/lean/count").json() == {"count": 0}
    started = time.monotonic()
    with Load(server.url) as load:
        for _ in range(5):
            load.expect(200, "reads served")
            assert _terminate_app_backends(cluster), "no backend of the app's to terminate"
        for _ in range(3):
            load.expect(200, "reads served")
            cluster.stop("fast")
            load.expect(503, "503 while the cluster is down")
            cluster.start()
            load.expect(200, "reads served again, covet not restarted", timeout=30)
    elapsed = time.monotonic() - started
    assert set(load.statuses) <= {200, 503}, load.bodies
    assert load.bodies[503] == '{"detail":"The database is unavailable, try again later"}'
    with server.client() as client:  # no broken connection is handed out again
        assert [client.get("/lean/count").status_code for _ in range(20)] == [200] * 20
    assert server.proc.poll() is None
    _, log = server.stop()
    assert "unavailable (503)" in log
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-3000:]
    print(f"{len(load.statuses)} answers ({load.statuses.count(503)} x 503) in {elapsed:.1f} s")
