"""examples/cached_catalogue on the real PostgreSQL and Redis, through two `covet run`
processes sharing a cache namespace: a repeated request is answered by the engine from the
memory level (the handler's run counter stays), the other process gets it from Redis without
running its handler, `vary` keeps one entry per language, and a price changed through another
route is seen by both processes (invalidation by tag, over pub/sub)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from examples.cached_catalogue.app import DATABASE_URL
from tests.conftest import start_server, wait_for

APP = "examples.cached_catalogue.app:app"


@pytest.fixture
def two(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    suffix = uuid.uuid4().hex[:8]
    table = f"catalogue_test_{suffix}"
    monkeypatch.setenv("CATALOGUE_TABLE", table)
    monkeypatch.setenv("CACHE_NAMESPACE", f"catalogue-test-{suffix}")
    servers = []
    try:
        servers.append(start_server(APP, "--no-access-log"))
        servers.append(start_server(APP, "--no-access-log"))
        with servers[0].client() as a, servers[1].client() as b:
            yield a, b
    finally:
        for server in servers:
            server.stop()
        asyncio.run(_drop(table))


async def _drop(table: str) -> None:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        await conn.close()


def runs(client: httpx.Client, handler: str) -> int:
    return int(client.get("/stats").json()["runs"].get(handler, 0))


def test_a_hit_is_the_engines_and_runs_no_handler(two: tuple[httpx.Client, httpx.Client]) -> None:
    a, _ = two
    first = a.get("/products/1")
    assert first.status_code == 200, first.text
    assert first.json() == {"id": 1, "name": "Teapot", "price_cents": 2400, "lang": "en"}
    assert first.headers["cache-control"] == "max-age=60"
    assert first.headers["vary"].lower() == "accept-language"
    assert runs(a, "product") == 1
    for _ in range(5):
        hit = a.get("/products/1")
        assert (hit.status_code, hit.content) == (200, first.content)
        assert hit.headers["etag"] == first.headers["etag"]
        assert int(hit.headers["age"]) >= 0
    unchanged = a.get("/products/1", headers={"if-none-match": first.headers["etag"]})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert runs(a, "product") == 1  # six answers, one handler run (and one query)


def test_vary_keeps_one_entry_per_language(two: tuple[httpx.Client, httpx.Client]) -> None:
    a, _ = two
    assert a.get("/products/1").json()["name"] == "Teapot"
    french = {"accept-language": "fr"}
    assert a.get("/products/1", headers=french).json()["name"] == "Théière"
    assert runs(a, "product") == 2
    assert a.get("/products/1", headers=french).json()["name"] == "Théière"
    assert a.get("/products/1").json()["name"] == "Teapot"
    assert runs(a, "product") == 2


def test_errors_are_not_stored(two: tuple[httpx.Client, httpx.Client]) -> None:
    a, _ = two
    for _ in range(2):
        missing = a.get("/products/99")
        assert (missing.status_code, missing.json()) == (404, {"detail": "No such product"})
    assert runs(a, "product") == 2
    refused = a.put("/products/1/price", json={"price_cents": -5})
    assert refused.status_code == 422


def test_a_price_change_invalidates_by_tag_in_every_process(two: tuple[httpx.Client, httpx.Client]) -> None:
    a, b = two
    french = {"accept-language": "fr"}
    for client in (a, b):
        client.get("/products/2")
        client.get("/products/2", headers=french)
        client.get("/products")
    # a ran the handlers; b was answered from Redis (and holds the entries in memory now).
    assert (runs(a, "product"), runs(a, "catalogue")) == (2, 1)
    assert (runs(b, "product"), runs(b, "catalogue")) == (0, 0)

    changed = a.put("/products/2/price", json={"price_cents": 4500})
    assert changed.json() == {"id": 2, "price_cents": 4500}

    assert a.get("/products/2").json()["price_cents"] == 4500
    assert a.get("/products/2", headers=french).json() == {
        "id": 2,
        "name": "Bouilloire",
        "price_cents": 4500,
        "lang": "fr",
    }
    wait_for(lambda: b.get("/products").json()[1]["price_cents"] == 4500, "b's list to be invalidated")
    assert b.get("/products/2", headers=french).json()["price_cents"] == 4500
    # The other product's entries were left alone.
    before = runs(a, "product")
    a.get("/products/1")
    a.get("/products/1")
    assert runs(a, "product") == before + 1
