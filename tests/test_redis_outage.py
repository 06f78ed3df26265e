"""Every Redis user in covet (sessions, JWT revocation, a shared rate limit) through a real
server while the test's own redis-server is killed, frozen (SIGSTOP) and brought back: a clear
503 with `Retry-After` and no traceback, one warning per outage, no hung request, and 200 again
without restarting covet. The machine's shared Redis is never touched."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.backends import OwnRedis
from tests.conftest import Server, start_server, wait_for

APP = "tests.apps.redis_outage:app"


@pytest.fixture
def served(own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, OwnRedis]]:
    monkeypatch.setenv("COVET_TEST_REDIS", own_redis.url)
    server = start_server(APP, "--no-access-log")
    try:
        yield server, own_redis
    finally:
        if server.proc.poll() is None:
            server.stop()


def signed_in(client: httpx.Client) -> dict[str, str]:
    """A session cookie (kept by `client`) and a bearer token, both made while Redis is up."""
    assert client.get("/count").json() == {"n": 1}
    token = client.post("/login/ada").json()["access_token"]
    headers = {"authorization": f"Bearer {token}"}
    assert client.get("/me", headers=headers).json() == {"sub": "ada"}
    assert client.get("/limited").status_code == 200
    return headers


def all_up(client: httpx.Client, headers: dict[str, str]) -> bool:
    codes = [client.get("/count").status_code, client.get("/me", headers=headers).status_code]
    return codes + [client.get("/limited").status_code] == [200, 200, 200]


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "Redis" in response.json()["detail"]


def outage_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("WARNING") and "covet.redis" in line]


def test_killed_redis_answers_503_logs_once_and_recovers(served: tuple[Server, OwnRedis]) -> None:
    server, redis = served
    with server.client() as client:
        headers = signed_in(client)
        redis.kill()
        for _ in range(30):  # every request that needs Redis: a clear 503, however many come
            assert_unavailable(client.get("/count"))
            assert_unavailable(client.get("/me", headers=headers))
            assert_unavailable(client.get("/limited"))
        assert httpx.get(server.url + "/free").json() == {"ok": True}, "routes without Redis keep serving"
        redis.start()
        wait_for(lambda: all_up(client, headers), "every Redis user to recover without a restart")
    assert server.proc.poll() is None
    _, log = server.stop()
    assert "Traceback" not in log
    assert "Exception in handler" not in log
    # One warning per feature for the whole outage (90 refused requests), one line when it is back.
    warnings = outage_warnings(log)
    assert len(warnings) == 3, "\n".join(warnings)
    assert log.count("Redis is reachable again") == 3, log


def test_frozen_redis_answers_503_in_bounded_time(served: tuple[Server, OwnRedis]) -> None:
    server, redis = served
    with server.client() as client:
        headers = signed_in(client)
        redis.freeze()
        try:
            for path, extra in [("/count", {}), ("/me", headers), ("/limited", {})] * 3:
                started = time.monotonic()
                response = client.get(path, headers=extra)
                elapsed = time.monotonic() - started
                assert_unavailable(response)
                assert elapsed < 3.0, f"{path} hung {elapsed:.1f} s on a frozen Redis"
        finally:
            redis.thaw()
        wait_for(lambda: all_up(client, headers), "every Redis user to recover after the thaw")
    _, log = server.stop()
    assert "Traceback" not in log
    assert len(outage_warnings(log)) == 3, log
