"""covet.ratelimit through the real engine: GCRA semantics on an injectable clock, headers and
429s, keys (addresses behind trusted proxies, API keys, users, routes), the middleware, and
Redis: shared counts, failing open and closed, and one limit enforced by two server processes."""

from __future__ import annotations

import concurrent.futures
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from covet import Covet, Depends, Header
from covet.ratelimit import (
    Limiter,
    MemoryBackend,
    RateLimit,
    RateLimitMiddleware,
    RedisBackend,
    api_key,
    client_ip,
    global_key,
    parse_rate,
)
from covet.testclient import TestClient
from tests.conftest import free_port, served_three_ways, start_server

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def memory(clock: Clock) -> MemoryBackend:
    return MemoryBackend(clock=clock)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    value = f"covet-test:ratelimit:{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=value + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def closed_port_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def app_with(*routes: tuple[str, list[Any]]) -> Covet:
    app = Covet()
    for path, deps in routes:

        async def endpoint() -> dict[str, str]:
            return {"ok": "yes"}

        app.add_api_route(path, endpoint, dependencies=deps)
    return app


# --- rates -------------------------------------------------------------------------------------


def test_rates_are_read_as_people_write_them() -> None:
    assert parse_rate("100/minute").limit == 100 and parse_rate("100/minute").period == 60
    assert parse_rate("5 per second").period == 1
    assert parse_rate("1000/2 hours").period == 7200
    assert parse_rate("10/m", burst=3).burst == 3
    assert parse_rate("7/day").policy == "7;w=86400"
    assert parse_rate("10/minute", burst=20).policy == "10;w=60;burst=20"
    for bad in ("100", "ten/minute", "5/ms", "0/second", "5/fortnight"):
        with pytest.raises(ValueError):
            parse_rate(bad)


# --- GCRA semantics and headers (memory backend, engine GCRA) ------------------------------------


def test_burst_then_refusal_then_recovery(clock: Clock, memory: MemoryBackend) -> None:
    rule = RateLimit("6/minute", burst=3, backend=memory)
    with TestClient(app_with(("/x", [Depends(rule)]))) as client:
        answers = [client.get("/x") for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
        assert answers[0].headers["ratelimit-limit"] == "3"
        assert answers[0].headers["ratelimit-policy"] == "6;w=60;burst=3"
        assert [r.headers["ratelimit-reset"] for r in answers[:3]] == ["10", "20", "30"]

        refused = answers[3]
        assert refused.headers["retry-after"] == "10"  # one emission interval: 60 s / 6
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == {"detail": "Rate limit exceeded: 6 per minute"}

        clock.now += 9.9
        assert client.get("/x").status_code == 429
        clock.now += 0.1
        recovered = client.get("/x")
        assert recovered.status_code == 200
        assert recovered.headers["ratelimit-remaining"] == "0"
        clock.now += 30
        assert client.get("/x").headers["ratelimit-remaining"] == "2"


def test_cost_takes_several_units(clock: Clock, memory: MemoryBackend) -> None:
    rule = RateLimit("10/minute", cost=4, backend=memory)
    with TestClient(app_with(("/export", [Depends(rule)]))) as client:
        assert [client.get("/export").status_code for _ in range(3)] == [200, 200, 429]


def test_handler_response_keeps_its_own_headers_and_status(memory: MemoryBackend) -> None:
    from covet.responses import JSONResponse

    app = Covet()

    @app.post("/items", status_code=201, dependencies=[Depends(RateLimit("5/minute", backend=memory))])
    async def create() -> JSONResponse:
        return JSONResponse({"id": 1}, status_code=201, headers={"x-item": "1"})

    with TestClient(app) as client:
        r = client.post("/items")
    assert r.status_code == 201 and r.headers["x-item"] == "1"
    assert r.headers["ratelimit-remaining"] == "4"


class User:
    def __init__(self, id: str) -> None:
        self.id = id


user_lookups: list[str] = []


async def current_user(x_user: str | None = Header(None)) -> User | None:
    user_lookups.append(x_user or "")
    return User(x_user) if x_user else None


# --- keys --------------------------------------------------------------------------------------


def test_each_client_address_has_its_own_allowance(memory: MemoryBackend) -> None:
    app = app_with(("/x", [Depends(RateLimit("2/hour", backend=memory))]))
    with (
        TestClient(app, client=("198.51.100.1", 4000)) as first,
        TestClient(app, client=("198.51.100.2", 4000)) as other,
    ):
        assert [first.get("/x").status_code for _ in range(3)] == [200, 200, 429]
        assert other.get("/x").status_code == 200


def test_forwarded_for_is_ignored_from_an_untrusted_peer(memory: MemoryBackend) -> None:
    rule = RateLimit("2/hour", key=client_ip(trusted_proxies=["10.0.0.0/8"]), backend=memory)
    with TestClient(app_with(("/x", [Depends(rule)])), client=("203.0.113.9", 5000)) as client:
        codes = [client.get("/x", headers={"x-forwarded-for": f"192.0.2.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429], "a spoofed X-Forwarded-For must not buy a fresh allowance"


def test_only_hops_added_by_trusted_proxies_are_skipped(memory: MemoryBackend) -> None:
    rule = RateLimit("1/hour", key=client_ip(trusted_proxies=["10.0.0.0/8"]), backend=memory)
    with TestClient(app_with(("/x", [Depends(rule)])), client=("10.0.0.2", 5000)) as client:

        def get(forwarded: str) -> int:
            return client.get("/x", headers={"x-forwarded-for": forwarded}).status_code

        # The client 192.0.2.7 reached our proxy chain 10.1.1.1 -> 10.0.0.2.
        assert get("192.0.2.7, 10.1.1.1") == 200
        # Whatever the client writes in front of that, it is still 192.0.2.7.
        assert get("6.6.6.6, 192.0.2.7, 10.1.1.1") == 429
        assert get("192.0.2.8, 10.1.1.1") == 200
        # No header at all: the (trusted) peer itself is the client.
        assert client.get("/x").status_code == 200


def test_ipv6_clients_are_keyed_by_their_64(memory: MemoryBackend) -> None:
    app = app_with(("/x", [Depends(RateLimit("1/hour", backend=memory))]))
    with TestClient(app, client=("2001:db8:1:2::1", 1)) as a, TestClient(app, client=("2001:db8:1:2::ffff", 1)) as b:
        assert a.get("/x").status_code == 200
        assert b.get("/x").status_code == 429


def test_per_api_key(memory: MemoryBackend) -> None:
    rule = RateLimit("2/hour", key=api_key("x-api-key", fallback=client_ip()), backend=memory)
    with TestClient(app_with(("/x", [Depends(rule)]))) as client:
        gold, silver = {"x-api-key": "gold"}, {"x-api-key": "silver"}
        assert [client.get("/x", headers=gold).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get("/x", headers=silver).status_code == 200
        # Without a key the client's address is counted, apart from the keys.
        assert [client.get("/x").status_code for _ in range(3)] == [200, 200, 429]


def test_per_user_from_a_dependency(memory: MemoryBackend) -> None:
    rule = RateLimit("1/hour", key=Depends(current_user), backend=memory)
    app = Covet()

    @app.get("/me", dependencies=[Depends(rule)])
    async def me(user: User | None = Depends(current_user)) -> dict[str, str | None]:
        return {"user": user.id if user else None}

    with TestClient(app) as client:
        user_lookups.clear()
        assert client.get("/me", headers={"x-user": "ann"}).json() == {"user": "ann"}
        assert user_lookups == ["ann"], "the rule and the handler share one call of the dependency"
        assert client.get("/me", headers={"x-user": "ann"}).status_code == 429
        assert client.get("/me", headers={"x-user": "bob"}).status_code == 200
        assert client.get("/me").status_code == 200  # anonymous: counted by address
        assert client.get("/me").status_code == 429
    params = app.openapi()["paths"]["/me"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["x-user"], "the user dependency's header is documented once"


def test_per_route_and_global_scopes(memory: MemoryBackend) -> None:
    per_route = RateLimit("2/hour", key=global_key, backend=memory)
    shared = RateLimit("2/hour", key=global_key, scope="global", backend=memory)
    app = app_with(("/a", [Depends(per_route)]), ("/b", [Depends(per_route)]), ("/c", [Depends(shared)]))
    app.add_api_route("/d", app.routes[2].endpoint, dependencies=[Depends(shared)])
    with TestClient(app) as client:
        assert [client.get(p).status_code for p in ("/a", "/a", "/a")] == [200, 200, 429]
        assert client.get("/b").status_code == 200, "another route has its own bucket"
        assert [client.get(p).status_code for p in ("/c", "/d", "/c", "/d")] == [200, 200, 429, 429]


# --- Limiter: dependency and decorator ----------------------------------------------------------


def test_limiter_default_rule_and_decorators(memory: MemoryBackend) -> None:
    limiter = Limiter("2/minute", backend=memory)
    app = Covet()

    @app.get("/search", dependencies=[Depends(limiter)])
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    @app.get("/login/{user}")
    @limiter.limit("1/minute")
    async def login(user: str, remember: bool = False) -> dict[str, Any]:
        return {"user": user, "remember": remember}

    @app.get("/report")
    @limiter.limit("1/minute")
    def report() -> dict[str, str]:  # a plain def, run in the thread pool
        return {"report": "ready"}

    with TestClient(app) as client:
        assert [client.get("/search?q=a").status_code for _ in range(3)] == [200, 200, 429]
        first = client.get("/login/ann?remember=true")
        assert first.json() == {"user": "ann", "remember": True}
        assert first.headers["ratelimit-policy"] == "1;w=60"
        assert client.get("/login/ann").status_code == 429
        assert client.get("/report").json() == {"report": "ready"}
        assert client.get("/report").status_code == 429
    params = app.openapi()["paths"]["/login/{user}"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["user", "remember"], "the decorator adds no visible parameter"


def test_two_rules_report_the_tighter_one(memory: MemoryBackend) -> None:
    loose = RateLimit("100/minute", backend=memory)
    tight = RateLimit("3/minute", backend=memory)
    with TestClient(app_with(("/x", [Depends(loose), Depends(tight)]))) as client:
        r = client.get("/x")
    assert r.headers.get_list("ratelimit-remaining") == ["2"]
    assert r.headers["ratelimit-limit"] == "3"


def test_a_handler_for_rate_limit_exceeded_shapes_the_429(memory: MemoryBackend) -> None:
    from covet.ratelimit import RateLimitExceeded
    from covet.responses import JSONResponse

    app = app_with(("/x", [Depends(RateLimit("1/hour", backend=memory))]))

    @app.exception_handler(RateLimitExceeded)
    async def too_many(request: Any, exc: RateLimitExceeded) -> JSONResponse:
        wait = exc.headers["retry-after"]
        return JSONResponse({"error": "slow_down", "wait": int(wait)}, status_code=429, headers=exc.headers)

    with TestClient(app) as client:
        client.get("/x")
        refused = client.get("/x")
    assert refused.status_code == 429
    assert refused.json() == {"error": "slow_down", "wait": 3600}
    assert refused.headers["ratelimit-limit"] == "1"


# --- middleware ----------------------------------------------------------------------------------


def test_middleware_limits_every_route_except_exempt_paths(memory: MemoryBackend) -> None:
    app = app_with(("/a", []), ("/b", []), ("/health", []), ("/static/app.css", []))
    app.add_middleware(RateLimitMiddleware, rate="3/hour", backend=memory, exempt=["/health", "/static"])
    with TestClient(app) as client:
        answers = [client.get(p) for p in ("/a", "/b", "/a", "/b")]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[2].headers["ratelimit-remaining"] == "0"
        assert answers[3].json() == {"detail": "Rate limit exceeded: 3 per hour"}
        assert int(answers[3].headers["retry-after"]) > 0
        for path in ("/health", "/static/app.css", "/health"):
            r = client.get(path)
            assert r.status_code == 200 and "ratelimit-limit" not in r.headers
        assert client.get("/missing").status_code == 429, "unknown paths count too: no free probing"


def test_middleware_scope_per_route(memory: MemoryBackend) -> None:
    app = app_with(("/a", []), ("/b", []))
    app.add_middleware(RateLimitMiddleware, rate="1/hour", scope="route", backend=memory)
    with TestClient(app) as client:
        assert [client.get(p).status_code for p in ("/a", "/b", "/a", "/b")] == [200, 200, 429, 429]


def test_memory_backend_bounds_its_keys(clock: Clock) -> None:
    backend = MemoryBackend(max_keys=32, clock=clock)
    rate = parse_rate("5/hour")
    for i in range(5000):
        backend.check(f"ip:{i}", rate)
    held = len(backend._limiters[rate])
    assert 0 < held <= 32


# --- Redis ---------------------------------------------------------------------------------------


def test_redis_counts_and_headers(prefix: str) -> None:
    backend = RedisBackend(REDIS_URL, prefix=prefix)
    with TestClient(app_with(("/x", [Depends(RateLimit("3/hour", backend=backend))]))) as client:
        answers = [client.get("/x") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0", "0"]
    assert int(answers[3].headers["retry-after"]) >= 1199  # one interval of 20 minutes
    assert answers[3].json() == {"detail": "Rate limit exceeded: 3 per hour"}
    keys = redis.Redis.from_url(REDIS_URL).keys(prefix + "*")
    assert len(keys) == 1, "one key per bucket, with an expiry"
    assert redis.Redis.from_url(REDIS_URL).pttl(keys[0]) > 0


def test_redis_recovers_after_the_interval(prefix: str) -> None:
    import time

    backend = RedisBackend(REDIS_URL, prefix=prefix)
    # One unit a second: the three requests must fall within one interval, which a loaded
    # machine (the first request also connects to Redis) could stretch past a shorter one.
    with TestClient(app_with(("/x", [Depends(RateLimit("1/second", burst=2, backend=backend))]))) as client:
        assert [client.get("/x").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(1.1)  # longer than one interval (1 s): one unit is back, whatever the delay
        assert client.get("/x").status_code == 200


def test_redis_unreachable_fails_open(caplog: pytest.LogCaptureFixture) -> None:
    backend = RedisBackend(closed_port_url(), prefix="covet-test:ratelimit:unreachable:")
    with caplog.at_level(logging.INFO, "covet"):
        with TestClient(app_with(("/x", [Depends(RateLimit("1/hour", backend=backend))]))) as client:
            answers = [client.get("/x") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert "ratelimit-limit" not in answers[0].headers
    # One warning for the outage (covet.redis), one note of what the rule does about it.
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["covet.redis"], "one warning, not one per request"
    notes = [r for r in caplog.records if "letting requests through" in r.getMessage()]
    assert len(notes) == 1


def test_redis_unreachable_fails_closed() -> None:
    backend = RedisBackend(closed_port_url(), prefix="covet-test:ratelimit:unreachable:")
    rule = RateLimit("1/hour", backend=backend, fail_open=False)
    with TestClient(app_with(("/x", [Depends(rule)]), ("/free", []))) as client:
        refused = client.get("/x")
        assert refused.status_code == 503
        assert refused.json() == {"detail": "Rate limiting is unavailable; try again shortly"}
        assert refused.headers["retry-after"] == "1"
        assert client.get("/free").status_code == 200


@pytest.mark.parametrize("fail_open", [True, False])
def test_server_keeps_serving_with_redis_down(fail_open: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVET_TEST_RL_REDIS", closed_port_url())
    monkeypatch.setenv("COVET_TEST_RL_FAIL_OPEN", "1" if fail_open else "0")
    server = start_server("tests.apps.ratelimit:app", "--no-access-log")
    try:
        with server.client() as client:
            codes = [client.get("/limited").status_code for _ in range(25)]
            assert set(codes) == ({200} if fail_open else {503})
            assert client.get("/free").json() == {"ok": True}
        assert server.proc.poll() is None
    finally:
        _, log = server.stop()
    assert "Rate limit backend unavailable" in log


def test_per_ip_through_the_real_server(monkeypatch: pytest.MonkeyPatch) -> None:
    # The peer is 127.0.0.1: untrusted here, so its X-Forwarded-For is ignored.
    monkeypatch.setenv("COVET_TEST_RL_TRUSTED", "10.0.0.0/8")
    untrusted = start_server("tests.apps.ratelimit:app", "--no-access-log")
    monkeypatch.setenv("COVET_TEST_RL_TRUSTED", "127.0.0.1")
    trusted = start_server("tests.apps.ratelimit:app", "--no-access-log")
    try:
        with untrusted.client() as client:
            codes = [client.get("/ip", headers={"x-forwarded-for": f"192.0.2.{i}"}).status_code for i in range(4)]
            assert codes == [200, 200, 200, 429]
        with trusted.client() as client:
            codes = [client.get("/ip", headers={"x-forwarded-for": f"192.0.2.{i}"}).status_code for i in range(4)]
            assert codes == [200, 200, 200, 200], "behind a trusted proxy, each forwarded client counts apart"
    finally:
        untrusted.stop()
        trusted.stop()


def test_two_server_processes_share_one_limit(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVET_TEST_RL_REDIS", REDIS_URL)
    monkeypatch.setenv("COVET_TEST_RL_PREFIX", prefix)
    monkeypatch.setenv("COVET_TEST_RL_FAIL_OPEN", "0")  # a Redis hiccup must not pass as a 200
    monkeypatch.setenv("COVET_TEST_RL_LIMIT", "20/hour")
    servers = [start_server("tests.apps.ratelimit:app", "--no-access-log") for _ in range(2)]
    try:
        assert servers[0].proc.pid != servers[1].proc.pid
        # One process uses half the allowance: the other one must see it used.
        with servers[0].client() as client:
            assert [client.get("/limited").status_code for _ in range(10)] == [200] * 10

        def hammer(server_index: int) -> list[int]:
            with servers[server_index].client() as client:
                return [client.get("/limited").status_code for _ in range(20)]

        # Then both at once, 80 requests each: separate counts would allow 10 + 20 more.
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(hammer, [0, 1, 0, 1, 0, 1, 0, 1]))
        codes = [code for batch in results for code in batch]
        assert len(codes) == 160
        assert codes.count(200) == 10, f"the two servers together allowed {10 + codes.count(200)} of 20"
        assert codes.count(429) == 150
        second = [code for batch in results[1::2] for code in batch]
        assert second.count(429) >= 70, "the second server refused too, counting what the first allowed"
    finally:
        for server in servers:
            server.stop()


def test_redis_script_is_loaded_on_noscript(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """EVALSHA first; a Redis that does not know the script (restarted, flushed, new) gets it
    by EVAL once, and EVALSHA works from then on."""
    import hashlib

    from covet.ratelimit import redis_backend

    # A variant of the script no Redis has seen yet (a comment changes its SHA, not its logic).
    script = redis_backend.GCRA_SCRIPT + f"-- {uuid.uuid4().hex}\n"
    sha = hashlib.sha1(script.encode()).hexdigest()
    monkeypatch.setattr(redis_backend, "GCRA_SCRIPT", script)
    monkeypatch.setattr(redis_backend, "GCRA_SHA", sha)
    sync = redis.Redis.from_url(REDIS_URL)
    assert sync.script_exists(sha) == [False]
    backend = RedisBackend(REDIS_URL, prefix=prefix)
    with TestClient(app_with(("/x", [Depends(RateLimit("2/hour", backend=backend))]))) as client:
        assert [client.get("/x").status_code for _ in range(3)] == [200, 200, 429]
    assert sync.script_exists(sha) == [True]
    sync.close()


client = served_three_ways("tests.apps.ratelimit:app")


def test_same_answers_under_testclient_covet_and_uvicorn(client: httpx.Client) -> None:
    answers = [client.get("/ip") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
    assert answers[3].json() == {"detail": "Rate limit exceeded: 3 per hour"}
    assert answers[3].headers["retry-after"] == "1200"
