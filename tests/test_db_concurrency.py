"""20 requests inserting the same email at once, through covet's real server: the unique
constraint lets exactly one in, the others get 409, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest


def test_concurrent_duplicates_one_wins(db_url: str, serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    server = serve("tests.apps.db_app:app", "--no-access-log")
    barrier = threading.Barrier(20)

    def insert(i: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.get("/health")  # connect first, so the 20 inserts leave together
            barrier.wait()
            return client.post("/accounts", json={"email": "race@example.com", "name": f"n{i}"})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(insert, range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["detail"][0]["loc"] == ["body", "email"]
    with server.client() as client:
        assert client.get("/accounts/count").json() == {"count": 1}
