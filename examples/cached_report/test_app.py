"""The cached report example on the real PostgreSQL and Redis (scripts/services.sh starts them),
through covet's engine (TestClient)."""

from __future__ import annotations

import uuid

import pytest

from covet.testclient import TestClient


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from examples.cached_report import app as module

    monkeypatch.setattr(module.cache, "namespace", f"example-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(module, "queries", 0)
    with TestClient(module.app) as client:
        yield client, module


def test_the_slow_query_runs_once_then_memory_answers(client) -> None:  # type: ignore[no-untyped-def]
    c, module = client
    first = c.get("/sales/north").json()
    assert first == {"region": "north", "days": 30, "total": 465}
    for _ in range(5):
        assert c.get("/sales/north").json() == first
    figures = c.get("/cache/figures").json()
    assert figures["queries"] == 1
    assert figures["memory"]["hits"] == 5
    assert figures["redis"]["sets"] == 1


def test_redis_answers_when_memory_is_cold(client) -> None:  # type: ignore[no-untyped-def]
    c, module = client
    c.get("/sales/south")
    module.cache.levels[0].store.clear()  # as a freshly started process
    assert c.get("/sales/south").json()["region"] == "south"
    figures = c.get("/cache/figures").json()
    assert figures["queries"] == 1
    assert figures["redis"]["hits"] == 1
    assert figures["memory"]["fills"] == 1


def test_refresh_drops_it_everywhere(client) -> None:  # type: ignore[no-untyped-def]
    c, module = client
    c.get("/sales/east")
    assert c.post("/sales/east/refresh").json() == {"refreshed": "east"}
    c.get("/sales/east")
    assert c.get("/cache/figures").json()["queries"] == 2
