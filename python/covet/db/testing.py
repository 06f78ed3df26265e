"""Test helpers: a throw-away database per test run, and a transaction per test.

```python
@pytest.fixture
def client():
    with TestClient(app) as tc, rollback_after(tc, db):
        yield tc          # everything the test writes is rolled back afterwards
```
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from covet.db.database import Database, _normalise_url

__all__ = ["rollback_after", "temporary_database"]


@contextlib.contextmanager
def temporary_database(server_url: str, prefix: str = "covet_test_") -> Iterator[str]:
    """The URL of a new, empty database, dropped on exit: for PostgreSQL a database named
    `<prefix><random>` on the server of `server_url`; for SQLite a file in a temporary folder."""
    url = make_url(_normalise_url(server_url))
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            yield f"sqlite+aiosqlite:///{os.path.join(folder, 'test.db')}"
        return
    name = f"{prefix}{secrets.token_hex(6)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server_url: str, sql: str) -> None:
    engine = create_async_engine(_normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def rollback_after(client: Any, db: Database) -> Iterator[Any]:
    """Inside the block, every session of `db` joins one outer transaction on one connection,
    rolled back on exit; a handler's commit only releases a savepoint. `client` is a started
    `TestClient` (its event loop runs the database work)."""
    loop: asyncio.AbstractEventLoop = client._loop
    cm = db.rollback_after()
    loop.run_until_complete(cm.__aenter__())
    try:
        yield client
    finally:
        loop.run_until_complete(cm.__aexit__(None, None, None))
