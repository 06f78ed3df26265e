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
