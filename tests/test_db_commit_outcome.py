"""PostgreSQL dies while COMMIT is in flight: covet answers 503 with `"outcome": "unknown"`,
not the plain "try again later" of a write known to have failed, and with an idempotency key
the retry after recovery leaves exactly one row, whether the first COMMIT was stored or not.

The moment is made deterministic on a private cluster (never the shared one):
- stored: a synchronous standby that does not exist (`synchronous_standby_names`), so COMMIT
  is durable locally and then waits forever for the standby; the cluster is stopped in
  `immediate` mode (as a crash) during that wait, and its recovery keeps the row;
- not stored: a deferred constraint trigger that sleeps, so COMMIT runs it and waits before
  the commit record; the backend is ended with `pg_terminate_backend` during the sleep.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.backends import PrivateCluster
from tests.conftest import wait_for

UNKNOWN = {
    "detail": "The database connection was lost while committing: the change may or may not have been saved",
    "outcome": "unknown",
}
UNAVAILABLE = {"detail": "The database is unavailable, try again later"}

SLOW_COMMIT = """
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON items
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""


def sql(cluster: PrivateCluster, query: str, *, script: bool = False) -> Any:
    """Runs `query` (or a `script` of statements) on a connection of its own, as the
    administrator, and returns its value."""
    import asyncpg

    async def run() -> Any:
        conn = await asyncpg.connect(cluster.url)
        try:
            return await (conn.execute(query) if script else conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(run())


def backend_waiting(cluster: PrivateCluster, condition: str) -> int | None:
    """The pid of the app's backend in the state `condition` describes, if there is one."""
    return sql(  # type: ignore[no-any-return]
        cluster, f"SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND {condition} LIMIT 1"
    )


def retry_until_answered(client: httpx.Client, body: dict[str, str], key: str) -> httpx.Response:
    """The client's retry after the outage: 503s while the pool finds its connections dead."""
    answers: list[httpx.Response] = []

    def answered() -> bool:
        answers.append(client.post("/items", json=body, headers={"Idempotency-Key": key}))
        return answers[-1].status_code != 503

    wait_for(answered, "an answer other than 503 after recovery", timeout=30)
    return answers[-1]


@pytest.fixture
def served(cluster: PrivateCluster, serve: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", cluster.url)
    return serve("tests.apps.db_faults_app:app", "--no-access-log")


def test_commit_stored_but_connection_lost_is_answered_outcome_unknown(cluster: PrivateCluster, served: Any) -> None:
    key = str(uuid.uuid4())
    with served.client() as client, ThreadPoolExecutor(1) as pool:
        assert client.get("/items/count").json() == {"count": 0}  # the tables exist
        sql(cluster, "ALTER SYSTEM SET synchronous_standby_names = 'ghost'")
        sql(cluster, "SELECT pg_reload_conf()")
        wait_for(lambda: sql(cluster, "SHOW synchronous_standby_names") == "ghost", "the reload")

        pending = pool.submit(client.post, "/items", json={"title": "once"}, headers={"Idempotency-Key": key})
        wait_for(lambda: backend_waiting(cluster, "wait_event = 'SyncRep'"), "COMMIT waiting for the standby")
        cluster.stop("immediate")
        lost = pending.result()
        assert lost.status_code == 503, lost.text
        assert lost.json() == UNKNOWN
        assert lost.headers["retry-after"] == "5"

        cluster.start()
        sql(cluster, "ALTER SYSTEM RESET synchronous_standby_names")
        sql(cluster, "SELECT pg_reload_conf()")
        wait_for(lambda: sql(cluster, "SHOW synchronous_standby_names") == "", "the reload")
        assert sql(cluster, "SELECT count(*) FROM items") == 1  # stored, though the answer was a 503

        retried = retry_until_answered(client, {"title": "once"}, key)
        assert retried.status_code == 201, retried.text
        assert retried.headers["idempotent-replayed"] == "true"
        assert client.get("/items/count").json() == {"count": 1}
    _, log = served.stop()
    assert log.count("outcome unknown (503)") == 1


def test_commit_not_stored_and_connection_lost_is_answered_outcome_unknown(
    cluster: PrivateCluster, served: Any
) -> None:
    key = str(uuid.uuid4())
    with served.client() as client, ThreadPoolExecutor(1) as pool:
        assert client.get("/items/count").json() == {"count": 0}
        sql(cluster, SLOW_COMMIT, script=True)

        pending = pool.submit(client.post, "/items", json={"title": "once"}, headers={"Idempotency-Key": key})
        pid = None

        def in_commit() -> bool:
            nonlocal pid
            pid = backend_waiting(cluster, "query LIKE 'COMMIT%' AND wait_event = 'PgSleep'")
            return pid is not None

        wait_for(in_commit, "COMMIT running the deferred trigger")
        sql(cluster, f"SELECT pg_terminate_backend({pid})")
        lost = pending.result()
        assert lost.status_code == 503, lost.text
        assert lost.json() == UNKNOWN
        assert sql(cluster, "SELECT count(*) FROM items") == 0  # this time it was not stored

        sql(cluster, "DROP TRIGGER slow_commit ON items")
        retried = retry_until_answered(client, {"title": "once"}, key)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers  # it ran: there was nothing to replay
        assert client.get("/items/count").json() == {"count": 1}


def test_a_failure_before_commit_stays_a_plain_503(cluster: PrivateCluster, served: Any) -> None:
    """Killed while the handler waits, before COMMIT was sent: known not stored."""
    with served.client() as client, ThreadPoolExecutor(1) as pool:
        assert client.get("/items/count").json() == {"count": 0}
        pending = pool.submit(client.post, "/items/slow", json={"title": "never"})
        pid = None

        def sleeping() -> bool:
            nonlocal pid
            pid = backend_waiting(cluster, "wait_event = 'PgSleep'")
            return pid is not None

        wait_for(sleeping, "the handler's query")
        sql(cluster, f"SELECT pg_terminate_backend({pid})")
        failed = pending.result()
        assert failed.status_code == 503, failed.text
        assert failed.json() == UNAVAILABLE
        assert "outcome" not in failed.json()
        assert sql(cluster, "SELECT count(*) FROM items") == 0
