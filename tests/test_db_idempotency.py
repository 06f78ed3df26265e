"""covet.db's idempotency keys on SQLite and PostgreSQL (a database of its own per test): a
retry with the same key is answered from the first run without writing again, the same key
with another payload is refused, and the key and the handler's writes commit together."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from covet.db import Database
from covet.testclient import TestClient
from tests.apps.db_faults_app import create_app


@pytest.fixture
def app_db(db_url: str) -> Iterator[tuple[TestClient, Database]]:
    app, db = create_app(db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, db


def count(client: httpx.Client) -> int:
    return int(client.get("/items/count").json()["count"])


def test_a_retry_with_the_same_key_is_answered_from_the_first_run(app_db: tuple[TestClient, Database]) -> None:
    client, _ = app_db
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/items", json={"title": "once"}, headers=key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post("/items", json={"title": "once"}, headers=key)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert count(client) == 1
    other = client.post("/items", json={"title": "once"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert count(client) == 2


def test_the_same_key_with_another_payload_is_refused_with_422(app_db: tuple[TestClient, Database]) -> None:
    client, _ = app_db
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert client.post("/items", json={"title": "a"}, headers=key).status_code == 201
    reused = client.post("/items", json={"title": "b"}, headers=key)
    assert reused.status_code == 422
    assert reused.json()["detail"][0]["type"] == "idempotency_key_reused"
    assert count(client) == 1


def test_without_a_key_the_handler_runs_each_time_and_a_bad_key_is_422(app_db: tuple[TestClient, Database]) -> None:
    client, _ = app_db
    assert client.post("/items", json={"title": "a"}).status_code == 201
    assert client.post("/items", json={"title": "a"}).status_code == 201
    assert count(client) == 2
    bad = client.post("/items", json={"title": "a"}, headers={"Idempotency-Key": "x" * 201})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert count(client) == 2


def test_a_failed_request_leaves_no_key_so_its_retry_runs(app_db: tuple[TestClient, Database]) -> None:
    client, _ = app_db
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert client.post("/items", json={"title": "fail"}, headers=key).status_code == 400
    assert count(client) == 0
    assert client.post("/items", json={"title": "fail"}, headers=key).status_code == 400  # ran again
    forgot = client.post("/items", json={"title": "forget"}, headers=key)
    assert forgot.status_code == 500  # a handler that never called respond(): rolled back
    assert count(client) == 0


def test_concurrent_requests_with_one_key_write_once(db_url: str, serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten clients at once with one key, through the real server: one runs, the others wait
    for it (on the key's row or the database lock) and replay its answer."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    server = serve("tests.apps.db_faults_app:app", "--no-access-log")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with server.client() as client, ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: client.post("/items", json={"title": "race"}, headers=key), range(10)))
        assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
        assert len({a.content for a in answers}) == 1
        assert sum("idempotent-replayed" in a.headers for a in answers) == 9
        assert count(client) == 1


def test_purge_deletes_old_keys(app_db: tuple[TestClient, Database]) -> None:
    from datetime import timedelta

    from covet.db import Idempotency

    client, db = app_db
    assert client.post("/items", json={"title": "a"}, headers={"Idempotency-Key": "k1"}).status_code == 201
    purge = Idempotency(db).purge
    assert client._loop.run_until_complete(purge(timedelta(hours=1))) == 0
    assert client._loop.run_until_complete(purge(timedelta(0))) == 1
    again = client.post("/items", json={"title": "a"}, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
