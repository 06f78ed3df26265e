"""The tasks example on SQLite and on PostgreSQL: migrated with its own Alembic migrations,
seeded, then driven through TestClient, each test inside a transaction rolled back after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from covet.db import migrations
from covet.db.testing import rollback_after, temporary_database
from covet.testclient import TestClient
from examples.tasks.app import app, db

MIGRATIONS = Path(__file__).parent / "migrations"
PG_SERVER = os.environ.get("COVET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def started(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A fresh database per backend, migrated to head and seeded (twice: nothing doubles)."""
    with temporary_database("sqlite://" if request.param == "sqlite" else PG_SERVER) as url:
        db.url = url
        migrations.upgrade(db, MIGRATIONS)
        with TestClient(app) as client:
            for _ in range(2):
                client._loop.run_until_complete(db.run_seeds())
            yield client
        migrations.downgrade(db, MIGRATIONS, "base")


@pytest.fixture
def client(started: TestClient) -> Iterator[TestClient]:
    with rollback_after(started, db):
        yield started


def test_seed_data_once(client: TestClient) -> None:
    titles = sorted(task["title"] for task in client.get("/tasks").json()["items"])
    assert titles == ["Break the code", "Check the engine", "Write the notes"]
    assert client.get("/users/1").json()["email"] == "ada@example.com"


def test_users_and_tasks(client: TestClient) -> None:
    user = client.post("/users", json={"email": "grace@example.com", "name": "Grace"})
    assert user.status_code == 201
    uid = user.json()["id"]
    task = client.post(f"/users/{uid}/tasks", json={"title": "Find the moth", "notes": "relay 70"})
    assert task.status_code == 201
    assert task.json()["owner_id"] == uid
    done = client.patch(f"/tasks/{task.json()['id']}", json={"done": True})
    assert done.json()["done"] is True and done.json()["notes"] == "relay 70"
    mine = client.get(f"/tasks?filter[owner_id]={uid}&filter[done]=true").json()["items"]
    assert [t["title"] for t in mine] == ["Find the moth"]


def test_errors(client: TestClient) -> None:
    dup = client.post("/users", json={"email": "ada@example.com", "name": "Ada again"})
    assert dup.status_code == 409
    assert dup.json()["detail"][0]["loc"] == ["body", "email"]
    orphan = client.post("/users/999/tasks", json={"title": "nobody's"})
    assert orphan.status_code == 422
    assert client.delete("/users/1").status_code == 409  # Ada still owns tasks
    assert client.get("/tasks/999").status_code == 404
    assert client.get("/tasks?sort=notes").status_code == 422


def test_keyset_pages(client: TestClient) -> None:
    first = client.get("/tasks?limit=2&sort=title").json()
    assert [t["title"] for t in first["items"]] == ["Break the code", "Check the engine"]
    second = client.get(f"/tasks?limit=2&sort=title&cursor={first['next_cursor']}").json()
    assert [t["title"] for t in second["items"]] == ["Write the notes"]
    assert second["next_cursor"] is None


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["database"] == "ok"
    assert body["pool"]["checked_out"] >= 1  # the test's outer transaction holds one
