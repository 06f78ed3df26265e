"""Every Redis user in covet (sessions, JWT revocation, a shared rate limit) through a real
server while the test's own redis-server is killed, frozen (SIGSTOP) and brought back: a clear
503 with `Retry-After` and no traceback, one warning per outage, no hung request, and 200 again
without restarting covet. The machine's shared Redis is never touched."""

from __future__ import annotations

import asyncio
import logging
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


def signed_in(browser: httpx.Client, api: httpx.Client) -> dict[str, str]:
    """A session cookie (kept by `browser`) and a bearer token (for `api`, which sends no
    cookie, so its requests need Redis for the token alone), made while Redis is up."""
    assert browser.get("/count").json() == {"n": 1}
    token = api.post("/login/ada").json()["access_token"]
    headers = {"authorization": f"Bearer {token}"}
    assert api.get("/me", headers=headers).json() == {"sub": "ada"}
    assert api.get("/limited").status_code == 200
    return headers


def all_up(browser: httpx.Client, api: httpx.Client, headers: dict[str, str]) -> bool:
    codes = [browser.get("/count").status_code, api.get("/me", headers=headers).status_code]
    return codes + [api.get("/limited").status_code] == [200, 200, 200]


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "unavailable" in response.json()["detail"]


def outage_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("WARNING") and "covet.redis" in line]


def test_killed_redis_answers_503_logs_once_and_recovers(served: tuple[Server, OwnRedis]) -> None:
    server, redis = served
    with server.client() as browser, server.client() as api:
        headers = signed_in(browser, api)
        redis.kill()
        for _ in range(30):  # every request that needs Redis: a clear 503, however many come
            assert_unavailable(browser.get("/count"))
            assert_unavailable(api.get("/me", headers=headers))
            assert_unavailable(api.get("/limited"))
        assert api.get("/free").json() == {"ok": True}, "routes without Redis keep serving"
        redis.start()
        wait_for(lambda: all_up(browser, api, headers), "every Redis user to recover without a restart")
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
    with server.client() as browser, server.client() as api:
        headers = signed_in(browser, api)
        redis.freeze()
        try:
            for client, path, extra in [(browser, "/count", {}), (api, "/me", headers), (api, "/limited", {})] * 3:
                started = time.monotonic()
                response = client.get(path, headers=extra)
                elapsed = time.monotonic() - started
                assert_unavailable(response)
                assert elapsed < 3.0, f"{path} hung {elapsed:.1f} s on a frozen Redis"
        finally:
            redis.thaw()
        wait_for(lambda: all_up(browser, api, headers), "every Redis user to recover after the thaw")
    _, log = server.stop()
    assert "Traceback" not in log
    assert len(outage_warnings(log)) == 3, log


# --- covet.redis itself: a busy pool is not an outage ------------------------------------------


def test_busy_pool_waits_and_overload_is_not_an_outage(own_redis: OwnRedis, caplog: pytest.LogCaptureFixture) -> None:
    from covet.redis import RedisClient, RedisUnavailable

    async def scenario() -> None:
        redis = RedisClient(own_redis.url, name="test", timeout=5, max_connections=1, pool_timeout=0.3)
        # Twenty calls at once on one connection: they queue for it, none fails.
        results = await asyncio.gather(*(redis.run(lambda r: r.incr("n")) for _ in range(20)))
        assert sorted(results) == list(range(1, 21))
        # The only connection busy for 1 s (BLPOP): the next call gives up after its pool wait,
        # as overload (503), and Redis is not taken for down.
        holder = asyncio.create_task(redis.run(lambda r: r.blpop(["nothing"], timeout=1)))
        await asyncio.sleep(0)  # the holder takes the connection first
        with pytest.raises(RedisUnavailable) as caught:
            await redis.run(lambda r: r.get("n"))
        assert caught.value.outage is False and caught.value.status_code == 503
        assert "busy" in caught.value.detail
        assert not redis.down
        await holder
        assert await redis.run(lambda r: r.get("n")) == b"20"
        await redis.aclose()
        # A client of the user's own, with redis-py's plain pool ("Too many connections" at once):
        # the same classification.
        from redis.asyncio import Redis

        own = RedisClient(Redis.from_url(own_redis.url, max_connections=1), name="test")
        holder = asyncio.create_task(own.run(lambda r: r.blpop(["nothing"], timeout=1)))
        await asyncio.sleep(0)
        with pytest.raises(RedisUnavailable) as caught:
            await own.run(lambda r: r.get("n"))
        assert caught.value.outage is False and not own.down
        await holder
        await own.client.aclose()

    with caplog.at_level(logging.INFO, "covet.redis"):
        asyncio.run(scenario())
    assert [r for r in caplog.records if r.name == "covet.redis"] == [], "overload logs no outage"


def test_outage_is_logged_once_and_ends_on_the_first_answer(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    from covet.redis import RedisClient, RedisUnavailable

    async def scenario() -> None:
        redis = RedisClient(own_redis.url, name="test", timeout=0.5, retry_interval=0.2)
        assert await redis.run(lambda r: r.set("k", "v"))
        own_redis.kill()
        for _ in range(50):
            with pytest.raises(RedisUnavailable) as caught:
                await redis.run(lambda r: r.get("k"))
            assert caught.value.outage is True
            assert caught.value.headers == {"Retry-After": "1"}
        assert redis.down
        own_redis.start()  # empty (no persistence): the pooled connections are all dead
        deadline = time.monotonic() + 10
        while True:  # the first call after `retry_interval` reaches the restarted Redis
            try:
                assert await redis.run(lambda r: r.get("k")) is None
                break
            except RedisUnavailable:
                assert time.monotonic() < deadline, "no recovery"
                await asyncio.sleep(0.05)
        assert not redis.down
        await redis.aclose()

    with caplog.at_level(logging.INFO, "covet.redis"):
        asyncio.run(scenario())
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "covet.redis"]
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert "Redis unavailable (test, redis://127.0.0.1:" in lines[0][1]
    assert "reachable again" in lines[1][1]


def test_revocation_fails_closed_by_default_and_open_when_asked(own_redis: OwnRedis) -> None:
    from covet.jwt import JWT, HMACKey, RedisRevocationStore
    from covet.redis import RedisUnavailable

    async def scenario() -> None:
        closed = RedisRevocationStore(own_redis.url, prefix="closed:", timeout=0.5)
        opened = RedisRevocationStore(own_redis.url, prefix="open:", timeout=0.5, fail_open=True)
        key = HMACKey("revocation-outage-secret-long-enough-0123456789", kid="k")
        strict, lenient = JWT(key, revocation_store=closed), JWT(key, revocation_store=opened)
        token = (await strict.create_token_pair("ada")).access_token
        assert (await strict.verify(token))["sub"] == "ada"
        assert (await lenient.verify(token))["sub"] == "ada"
        own_redis.kill()
        with pytest.raises(RedisUnavailable):
            await strict.verify(token)  # a revoked token must never pass because Redis is down
        assert (await lenient.verify(token))["sub"] == "ada"  # fail_open=True: accepted unchecked
        with pytest.raises(RedisUnavailable):
            await lenient.revoke(token)  # writes need Redis either way
        await closed.aclose()
        await opened.aclose()

    asyncio.run(scenario())
