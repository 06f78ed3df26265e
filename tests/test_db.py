"""covet.db through TestClient, on SQLite and on PostgreSQL (a database of its own per test):
sessions, error mapping, get_or_404, PATCH, pagination, health, transaction-per-test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from covet.db import Database
from covet.db.testing import rollback_after
from covet.testclient import TestClient
from tests.apps.db_app import create_app

DRIVER_WORDS = ("INSERT", "UPDATE", "DELETE", "constraint", "asyncpg", "sqlite", "Key (", "violates", "SELECT")


@pytest.fixture
def app_db(db_url: str) -> Iterator[tuple[TestClient, Database]]:
    app, db = create_app(db_url)
    with TestClient(app) as client:
        yield client, db


@pytest.fixture
def client(app_db: tuple[TestClient, Database]) -> TestClient:
    return app_db[0]


def assert_no_driver_text(text: str) -> None:
    for word in DRIVER_WORDS:
        assert word not in text, f"{word!r} leaked into the response: {text}"


def test_commit_on_success(client: TestClient) -> None:
    created = client.post("/accounts", json={"email": "a@example.com", "name": "A"})
    assert created.status_code == 201
    assert created.json()["id"] >= 1
    assert client.get(f"/accounts/{created.json()['id']}").json()["email"] == "a@example.com"
    assert client.get("/accounts/count").json() == {"count": 1}


def test_rollback_when_the_handler_raises(client: TestClient) -> None:
    response = client.post("/accounts/then-fail", json={"email": "b@example.com", "name": "B"})
    assert response.status_code == 400
    assert client.get("/accounts/count").json() == {"count": 0}
    # The email is free: the failed request's row never committed.
    assert client.post("/accounts", json={"email": "b@example.com", "name": "B"}).status_code == 201


@pytest.mark.parametrize("path", ["/accounts", "/accounts/saved"])
def test_duplicate_is_409_naming_the_field(client: TestClient, path: str, caplog: pytest.LogCaptureFixture) -> None:
    assert client.post(path, json={"email": "dup@example.com", "name": "A"}).status_code == 201
    with caplog.at_level(logging.INFO, logger="covet.db"):
        response = client.post(path, json={"email": "dup@example.com", "name": "B"})
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "email"]
    assert detail[0]["type"] == "unique_violation"
    assert_no_driver_text(response.text)
    assert any("unique_violation" in r.getMessage() for r in caplog.records)
    assert client.get("/accounts/count").json() == {"count": 1}


def test_foreign_key_to_a_missing_row_is_422(client: TestClient) -> None:
    response = client.post("/posts", json={"author_id": 999, "title": "orphan"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "foreign_key_violation"
    assert_no_driver_text(response.text)


def test_deleting_a_referenced_row_is_409_and_keeps_it(client: TestClient) -> None:
    author = client.post("/accounts", json={"email": "w@example.com", "name": "W"}).json()["id"]
    assert client.post("/posts", json={"author_id": author, "title": "hello"}).status_code == 201
    response = client.delete(f"/accounts/{author}")
    assert response.status_code == 409
    assert response.json()["detail"][0]["type"] == "foreign_key_violation"
    assert_no_driver_text(response.text)
    assert client.get(f"/accounts/{author}").status_code == 200


def test_get_or_404(client: TestClient) -> None:
    assert client.get("/accounts/12345").status_code == 404
    assert client.get("/accounts/12345").json() == {"detail": "Account not found"}
    bad = client.get("/accounts/not-a-number")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["path", "account_id"]


def test_patch_changes_only_the_fields_sent(client: TestClient) -> None:
    created = client.post("/accounts", json={"email": "p@example.com", "name": "P", "rank": 3}).json()
    patched = client.patch(f"/accounts/{created['id']}", json={"name": "Q"})
    assert patched.status_code == 200
    assert patched.json() == {**created, "name": "Q"}
    assert client.get(f"/accounts/{created['id']}").json() == {**created, "name": "Q"}


def _add(client: TestClient, n: int) -> None:
    for i in range(n):
        rank = i % 3  # ties on rank: the primary key must break them
        client.post("/accounts", json={"email": f"u{i}@example.com", "name": f"user{i:02d}", "rank": rank})


def test_keyset_pagination_walks_every_row_once_in_order(client: TestClient) -> None:
    _add(client, 11)
    seen: list[tuple[int, int]] = []
    url = "/accounts?limit=4&sort=-rank"
    pages = 0
    while url:
        page = client.get(url).json()
        seen += [(-row["rank"], -row["id"]) for row in page["items"]]
        pages += 1
        url = f"/accounts?limit=4&sort=-rank&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert pages == 3
    assert len(seen) == 11 and len(set(seen)) == 11
    assert seen == sorted(seen)  # rank descending, ties by id in the same direction


def test_offset_pagination_and_filter(client: TestClient) -> None:
    _add(client, 9)
    page = client.get("/accounts?limit=2&offset=1&sort=name&filter[rank]=1").json()
    assert [row["name"] for row in page["items"]] == ["user04", "user07"]
    assert page["offset"] == 1 and page["next_cursor"] is None


@pytest.mark.parametrize(
    "query, loc",
    [
        ("sort=email", ["query", "sort"]),
        ("sort=name;drop table accounts", ["query", "sort"]),
        ("filter[email]=x", ["query", "filter[email]"]),
        ("filter[rank]=high", ["query", "filter[rank]"]),
        ("cursor=garbage", ["query", "cursor"]),
        ("limit=51", ["query", "limit"]),
    ],
)
def test_pagination_refuses_what_is_not_allowed(client: TestClient, query: str, loc: list[str]) -> None:
    response = client.get(f"/accounts?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_ping_and_pool_stats(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["ok"] is True
    assert set(body["pool"]) >= {"checked_out", "overflow", "size", "timeouts"}


def test_transaction_per_test_leaves_nothing(app_db: tuple[TestClient, Database]) -> None:
    client, db = app_db
    with rollback_after(client, db):
        assert client.post("/accounts", json={"email": "t@example.com", "name": "T"}).status_code == 201
        # Rollback of a failed request inside the outer transaction is a savepoint rollback.
        assert client.post("/accounts", json={"email": "t@example.com", "name": "U"}).status_code == 409
        assert client.get("/accounts/count").json() == {"count": 1}
    assert client.get("/accounts/count").json() == {"count": 0}


def test_seeding_twice_is_idempotent(app_db: tuple[TestClient, Database]) -> None:
    client, db = app_db
    for _ in range(2):
        client._loop.run_until_complete(db.run_seeds())
    assert client.get("/accounts/count").json() == {"count": 3}
    emails = sorted(row["email"] for row in client.get("/accounts").json()["items"])
    assert emails == ["seed0@example.com", "seed1@example.com", "seed2@example.com"]


def test_prepared_statements_on_the_driver_connection(app_db: tuple[TestClient, Database]) -> None:
    """The lean path (db.prepare + db.connection) reads and writes what the sessions see."""
    from sqlalchemy import bindparam, select, update

    from tests.apps.db_app import Account

    client, db = app_db
    for i in range(3):
        client.post("/accounts", json={"email": f"s{i}@example.com", "name": f"s{i}", "rank": i})
    by_id = db.prepare(select(Account.id, Account.name).where(Account.id == bindparam("id")))
    ranked = db.prepare(select(Account.name).where(Account.rank >= bindparam("rank")).order_by(Account.name))
    rename = db.prepare(update(Account).where(Account.id == bindparam("key")).values(name=bindparam("name")))

    async def run() -> tuple[object, ...]:
        async with db.connection() as conn:
            one = await by_id.fetch_one(conn, id=1)
            missing = await by_id.fetch_one(conn, id=999)
            names = [tuple(r) for r in await ranked.fetch_all(conn, rank=1)]
            each = [tuple(r) if r is not None else None for r in await by_id.fetch_each(conn, [{"id": 2}, {"id": 3}])]
            gaps = await by_id.fetch_each(conn, [{"id": 3}, {"id": 999}])
            await rename.execute(conn, key=1, name="renamed")
        return tuple(one), missing, names, each, gaps[1]

    one, missing, names, each, gap = client._loop.run_until_complete(run())
    assert one == (1, "s0") and missing is None and gap is None
    assert names == [("s1",), ("s2",)]
    assert each == [(2, "s1"), (3, "s2")]
    assert client.get("/accounts/1").json()["name"] == "renamed"
