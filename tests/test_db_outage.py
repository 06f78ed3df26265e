"""PostgreSQL goes away and comes back while covet keeps running: requests get 503 with
Retry-After (no driver text) while it is down, and succeed again once it is back, with no
restart of covet. A private cluster (initdb on a free port) is used, never the shared one."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.backends import PrivateCluster


def test_503_while_postgres_is_down_then_recovery(
    cluster: PrivateCluster, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", cluster.url)
    server = serve("tests.apps.db_app:app")
    with server.client() as client:
        assert client.post("/accounts", json={"email": "before@example.com", "name": "A"}).status_code == 201

        cluster.stop()
        for path in ("/accounts/count", "/accounts/1"):
            down = client.get(path)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            assert down.json() == {"detail": "The database is unavailable, try again later"}
        assert client.get("/health").json()["ok"] is False
        assert server.proc.poll() is None

        cluster.start()
        deadline = time.monotonic() + 30
        statuses = []
        while time.monotonic() < deadline:
            response = client.post("/accounts", json={"email": "after@example.com", "name": "B"})
            statuses.append(response.status_code)
            if response.status_code == 201:
                break
            time.sleep(0.5)
        assert statuses[-1] == 201, statuses
        assert set(statuses) <= {201, 503}
        assert client.get("/accounts/count").json() == {"count": 2}
    _, log = server.stop()
    assert "unavailable (503)" in log
