"""What a worker does not load until it is used: SQLAlchemy (covet.db's lean path needs none),
pydantic-settings, the OpenAPI generator and the html module's tables. Together about 23 MiB
of a worker's resident memory (docs/performance.md, "Memory").

Each check runs in a fresh interpreter: this test process has long loaded all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from covet.db.database import _asyncpg_kwargs
from covet.db.statements import PreparedStatement
from covet.db.testing import temporary_database
from tests.conftest import PG_SERVER_URL

ROOT = Path(__file__).resolve().parent.parent
# Loaded only by an app that uses them.
HEAVY = ("sqlalchemy", "pydantic_settings", "covet.openapi.utils", "html.entities")


def run_python(code: str, *args: str) -> dict[str, object]:
    """Runs `code` in a fresh interpreter (the repository on its path); `code` prints one JSON
    object as its last line, returned."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


LOADED = f"[m for m in {HEAVY!r} if m in sys.modules]"
# With covet.testclient loaded too (it needs html's tables, a worker does not).
SA_LOADED = "[m for m in ('sqlalchemy',) if m in sys.modules]"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database(PG_SERVER_URL, prefix="covet_test_lean_") as url:
        yield url


def test_import_covet_loads_none_of_them() -> None:
    out = run_python(f"""
        import json, sys
        import covet, covet.db, covet.cli, covet.server, covet.openapi
        print(json.dumps({{"loaded": {LOADED}}}))
    """)
    assert out == {"loaded": []}


def test_the_lean_path_on_postgresql_never_loads_sqlalchemy(pg_url: str) -> None:
    out = run_python(
        f"""
        import asyncio, json, sys
        from covet import Covet
        from covet.db import Database
        from covet.testclient import TestClient

        db = Database(sys.argv[1], pool_size=2, max_overflow=0)
        app = Covet()
        db.init_app(app)
        one = db.prepare("SELECT :a::int + :b::int AS total, ':not_a_parameter' AS text")

        @app.get("/sum")
        async def total(a: int, b: int) -> dict[str, object]:
            async with db.connection() as conn:
                row = await one.fetch_one(conn, a=a, b=b)
                each = await one.fetch_each(conn, [{{"a": 1, "b": i}} for i in range(3)])
            return {{"total": row[0], "text": row[1], "each": [r[0] for r in each]}}

        with TestClient(app) as client:
            answer = client.get("/sum?a=2&b=3").json()
            ping = client._loop.run_until_complete(db.ping())
            stats = db.pool_stats()
        print(json.dumps({{"answer": answer, "ping": ping, "open": stats["driver_open"], "loaded": {SA_LOADED}}}))
        """,
        pg_url,
    )
    assert out == {
        "answer": {"total": 5, "text": ":not_a_parameter", "each": [1, 2, 3]},
        "ping": True,
        "open": 1,
        "loaded": [],
    }


def test_a_lean_app_gets_the_engine_and_the_error_answers_when_it_first_uses_a_session(pg_url: str) -> None:
    """No SQLAlchemy at startup; a session later makes the engine, and SQLAlchemy's errors are
    answered as before (a unique violation: 409)."""
    out = run_python(
        f"""
        import json, sys
        from covet import Covet, Depends
        from covet.db import Database
        from covet.testclient import TestClient

        db = Database(sys.argv[1])
        app = Covet()
        db.init_app(app)
        setup = db.prepare("CREATE TABLE names (name text PRIMARY KEY)")

        @app.post("/names/{{name}}", status_code=201)
        async def add(name: str, session=Depends(db.session)) -> dict[str, str]:
            from sqlalchemy import text

            await session.execute(text("INSERT INTO names VALUES (:name)"), {{"name": name}})
            return {{"name": name}}

        async def create() -> None:
            async with db.connection() as conn:
                await setup.execute(conn)

        with TestClient(app) as client:
            client._loop.run_until_complete(create())
            at_startup = {SA_LOADED}
            first = client.post("/names/ada")
            again = client.post("/names/ada")
        print(json.dumps({{
            "at_startup": at_startup,
            "first": first.status_code,
            "again": [again.status_code, again.json()["detail"][0]["type"]],
        }}))
        """,
        pg_url,
    )
    assert out == {"at_startup": [], "first": 201, "again": [409, "unique_violation"]}


def test_a_pool_timeout_without_sqlalchemy_is_answered_503(pg_url: str) -> None:
    out = run_python(
        f"""
        import json, sys
        from covet import Covet
        from covet.db import Database, PoolTimeout
        from covet.testclient import TestClient

        db = Database(sys.argv[1], pool_size=1, max_overflow=0, pool_timeout=0.2)
        app = Covet()
        db.init_app(app)

        @app.get("/one")
        async def one() -> dict[str, int]:
            async with db.connection() as conn:
                return {{"one": await conn.fetchval("SELECT 1")}}

        with TestClient(app) as client:
            pool = db._driver_pool
            held = client._loop.run_until_complete(pool.acquire())
            try:
                client._loop.run_until_complete(pool.acquire())
                raised = None
            except PoolTimeout as exc:
                raised = isinstance(exc, TimeoutError)
            refused = client.get("/one")
            client._loop.run_until_complete(pool.release(held, None))
            after = client.get("/one").json()
            timeouts = db.pool_stats()["timeouts"]
        print(json.dumps({{
            "raised": raised,
            "refused": [refused.status_code, refused.headers["retry-after"]],
            "timeouts": timeouts,
            "after": after,
            "loaded": {SA_LOADED},
        }}))
        """,
        pg_url,
    )
    assert out == {"raised": True, "refused": [503, "5"], "timeouts": 1, "after": {"one": 1}, "loaded": []}


def test_the_bench_app_loads_no_sqlalchemy_and_sends_the_peers_sql() -> None:
    pytest.importorskip("asyncpg")
    pytest.importorskip("jinja2")
    out = run_python(f"""
        import json, sys
        from benchmarks.apps import common, covet_app
        from covet.db.statements import PreparedStatement

        sql = [PreparedStatement.from_text(s, "asyncpg").sql for s in (covet_app.SELECT_WORLD, covet_app.UPDATE_WORLDS)]
        print(json.dumps({{"same": sql == [common.SELECT_WORLD, common.UPDATE_WORLDS], "loaded": {LOADED}}}))
    """)
    assert out == {"same": True, "loaded": []}


@pytest.mark.parametrize(
    ("sql", "asyncpg", "sqlite", "names"),
    [
        ("SELECT * FROM t WHERE id = :id", "SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = ?", ("id",)),
        # casts, quoted text and identifiers, a name used twice
        (
            "SELECT :a::int[], 'x :b', \"c:d\", e:f, :a",
            "SELECT $1::int[], 'x :b', \"c:d\", e:f, $2",
            "SELECT ?::int[], 'x :b', \"c:d\", e:f, ?",
            ("a", "a"),
        ),
        ("SELECT 'it''s :x' || :y", "SELECT 'it''s :x' || $1", "SELECT 'it''s :x' || ?", ("y",)),
    ],
)
def test_text_parameters_become_the_drivers_placeholders(
    sql: str, asyncpg: str, sqlite: str, names: tuple[str]
) -> None:
    pg = PreparedStatement.from_text(sql, "asyncpg")
    assert (pg.sql, pg.names, pg.asyncpg) == (asyncpg, names, True)
    lite = PreparedStatement.from_text(sql, "aiosqlite")
    assert (lite.sql, lite.names, lite.asyncpg) == (sqlite, names, False)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        "postgresql+asyncpg://u:p%40ss%3Aw@db.example.com/my%2Fdb",
        "postgresql+asyncpg://u@[::1]:5433/d",
        "postgresql+asyncpg:///d",
        "postgresql+asyncpg://h",
    ],
)
def test_plain_urls_give_asyncpg_what_sqlalchemys_dialect_gives(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    assert (args, kwargs) == ([], _asyncpg_kwargs(url))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://h/d?ssl=require",
        "postgresql+asyncpg://a,b/d",
        "postgresql+asyncpg://u@%2Fvar%2Frun%2Fpostgresql/d",
        "sqlite+aiosqlite:///x.db",
    ],
)
def test_other_urls_are_left_to_sqlalchemy(url: str) -> None:
    assert _asyncpg_kwargs(url) is None


def test_text_statements_run_on_sqlite_too(tmp_path: Path) -> None:
    import asyncio

    from covet.db import Database

    async def main() -> list[object]:
        db = Database(f"sqlite:///{tmp_path / 'lean.db'}")
        await db.connect()
        try:
            async with db.connection() as conn:
                await db.prepare("CREATE TABLE t (id integer PRIMARY KEY, name text)").execute(conn)
                await db.prepare("INSERT INTO t VALUES (:id, :name)").execute(conn, id=1, name="ada")
                row = await db.prepare("SELECT name FROM t WHERE id = :id").fetch_one(conn, id=1)
            return list(row)
        finally:
            await db.disconnect()

    assert asyncio.run(main()) == ["ada"]
