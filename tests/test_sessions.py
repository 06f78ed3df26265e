"""Sessions (`covet.sessions`): signed-cookie, memory and Redis storage through the real engine
(TestClient), cookie flags over http and https, tampering, expiry, id rotation, and a Redis-backed
app on covet's own server."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
import redis

from covet import Covet, Request
from covet.sessions import MemorySessionBackend, RedisSessionBackend, Session, SessionMiddleware
from covet.testclient import TestClient
from tests.apps.sessions import REDIS_URL, SECRET, make_app
from tests.conftest import Server


def set_cookie(response: Any, name: str = "session") -> dict[str, str | bool]:
    """The attributes of the Set-Cookie header for `name` (flags as True)."""
    for line in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(line)
        if name in cookie:
            morsel = cookie[name]
            attrs: dict[str, str | bool] = {"value": morsel.value}
            attrs.update({k: v for k, v in morsel.items() if v})
            return attrs
    raise AssertionError(f"no Set-Cookie for {name!r} in {response.headers.get_list('set-cookie')}")


class Clock:
    """A clock the memory backend reads, moved by hand: expiry without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, redis.Redis]]:
    """A key prefix of this test's own, and a client to inspect it; the keys are deleted after."""
    prefix = f"covet-test:sessions:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(REDIS_URL)
    yield prefix, client
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


# --- the Session dict ------------------------------------------------------------------------------


def test_session_tracks_changes_through_the_dict_api() -> None:
    s = Session({"a": 1}, "id1")
    assert not s.modified and s["a"] == 1 and s.get("b") is None and isinstance(s, dict)
    s.setdefault("a", 5)
    assert not s.modified  # the key was there: nothing changed
    for change in (
        lambda: s.__setitem__("b", 2),
        lambda: s.pop("b"),
        lambda: s.update(c=3),
        lambda: s.setdefault("d", 4),
        lambda: s.__delitem__("d"),
        s.clear,
    ):
        s.modified = False
        change()
        assert s.modified, change
    s.modified = False
    s.pop("missing", None)
    s.clear()
    assert not s.modified  # nothing to remove, nothing changed


def test_regenerate_keeps_data_and_changes_id() -> None:
    s = Session({"user": "ann"}, "old")
    s.regenerate()
    assert s.id != "old" and s.loaded_id == "old" and s.regenerated and s["user"] == "ann" and s.modified


# --- signed-cookie sessions (the default) ------------------------------------------------------------


def test_cookie_round_trip_and_default_flags() -> None:
    with TestClient(make_app()) as client:
        first = client.get("/count")
        assert first.json() == {"n": 1}
        attrs = set_cookie(first)
        assert attrs["httponly"] is True
        assert attrs["samesite"] == "lax"
        assert attrs["path"] == "/"
        assert attrs["max-age"] == str(14 * 24 * 3600)
        assert "secure" not in attrs  # plain http: a Secure cookie would never come back
        assert client.get("/count").json() == {"n": 2}
        assert client.get("/session").json() == {"n": 2}


def test_reading_without_changing_sends_no_cookie() -> None:
    with TestClient(make_app()) as client:
        client.post("/session", json={"a": 1})
        response = client.get("/session")
        assert response.json() == {"a": 1}
        assert response.headers.get_list("set-cookie") == []


def test_an_empty_session_sends_no_cookie_and_logout_clears_it() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/session").headers.get_list("set-cookie") == []
        client.post("/session", json={"user": "ann"})
        out = client.post("/logout")
        attrs = set_cookie(out)
        assert attrs["value"] == "" and attrs["max-age"] == "0"
        assert client.get("/session").json() == {}


def test_tampered_cookie_gives_an_empty_session_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client:
        good = set_cookie(client.post("/session", json={"role": "user"}))["value"]
        assert isinstance(good, str)
        payload, _, signature = good.rpartition(".")
        # Same signature, another payload: what a user editing their cookie would try.
        forged = payload.replace(payload[:4], "eyJh", 1) + "." + signature
        for bad in (forged, good[:-2] + ("AA" if not good.endswith("AA") else "BB"), "garbage"):
            client.cookies.clear()
            client.cookies.set("session", bad)
            with caplog.at_level(logging.DEBUG, logger="covet.sessions"):
                response = client.get("/session")
            assert response.status_code == 200 and response.json() == {}
            assert set_cookie(response)["max-age"] == "0"  # the useless cookie is removed
        assert "bad signature" in caplog.text


def test_cookie_signed_with_another_secret_is_refused() -> None:
    with TestClient(make_app()) as one:
        value = set_cookie(one.post("/session", json={"a": 1}))["value"]
    other = Covet()

    @other.get("/session")
    async def read(request: Request) -> dict[str, Any]:
        return dict(request.session)

    other.add_middleware(SessionMiddleware, secret_key="a-different-secret-key-0123456789")
    with TestClient(other, cookies={"session": str(value)}) as client:
        assert client.get("/session").json() == {}


def test_cookie_session_expires_after_max_age(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app(max_age=1)) as client:
        client.post("/session", json={"a": 1})
        assert client.get("/session").json() == {"a": 1}
        # The signature's timestamp has one-second resolution: 2.1 s is always more than 1.
        time.sleep(2.1)
        client.cookies.set("session", client.cookies["session"])  # as a browser ignoring Max-Age
        with caplog.at_level(logging.DEBUG, logger="covet.sessions"):
            assert client.get("/session").json() == {}
        assert "expired" in caplog.text


def test_refresh_each_request_resends_the_cookie() -> None:
    with TestClient(make_app(refresh_each_request=True)) as client:
        client.post("/session", json={"a": 1})
        response = client.get("/session")
        assert set_cookie(response)["max-age"] == str(14 * 24 * 3600)
        assert client.get("/session").json() == {"a": 1}


def test_regenerate_with_cookie_sessions_changes_the_id() -> None:
    app = make_app()

    @app.get("/id")
    async def session_id(request: Request) -> dict[str, str]:
        return {"id": request.session.id}

    with TestClient(app) as client:
        client.post("/session", json={"a": 1})
        before = client.get("/id").json()["id"]
        client.post("/login", data={"user": "ann"})
        after = client.get("/id").json()["id"]
        assert before != after
        assert client.get("/session").json() == {"a": 1, "user": "ann"}


# --- cookie flags: https, forced, proxies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "options", "headers", "secure"),
    [
        ("https://testserver", {}, {}, True),
        ("http://testserver", {}, {}, False),
        ("http://testserver", {"https_only": True}, {}, True),
        ("https://testserver", {"https_only": False}, {}, False),
        ("http://testserver", {}, {"x-forwarded-proto": "https"}, False),  # not trusted by default
        ("http://testserver", {"trust_forwarded_proto": True}, {"x-forwarded-proto": "https"}, True),
        ("http://testserver", {"same_site": "none"}, {}, True),  # browsers require it
    ],
)
def test_secure_flag(base_url: str, options: dict[str, Any], headers: dict[str, str], secure: bool) -> None:
    with TestClient(make_app(**options), base_url=base_url) as client:
        response = client.post("/session", json={"a": 1}, headers=headers)
        attrs = set_cookie(response)
        assert ("secure" in attrs) is secure
        assert attrs["httponly"] is True


def test_https_round_trip_and_cookie_options() -> None:
    app = make_app(session_cookie="sid", path="/", domain="testserver.local", max_age=None, same_site="strict")
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post("/session", json={"a": 1})
        attrs = set_cookie(response, "sid")
        assert attrs["domain"] == "testserver.local" and attrs["samesite"] == "strict"
        assert "max-age" not in attrs  # a browser-session cookie
    with TestClient(make_app(), base_url="https://testserver") as client:
        client.post("/session", json={"a": 1})
        assert client.get("/session").json() == {"a": 1}  # the Secure cookie comes back over https


def test_testclient_https_url_arrives_as_https() -> None:
    app = Covet()

    @app.get("/")
    async def scheme(request: Request) -> str:
        return request.url.scheme

    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/").json() == "https"
        assert client.get("http://testserver/").json() == "http"


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="secret_key"):
        SessionMiddleware(None, secret_key="")
    with pytest.raises(ValueError, match="same_site"):
        SessionMiddleware(None, secret_key=SECRET, same_site="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Secure"):
        SessionMiddleware(None, secret_key=SECRET, same_site="none", https_only=False)


def test_request_session_without_middleware_says_what_is_missing() -> None:
    app = Covet()

    @app.get("/")
    async def read(request: Request) -> dict[str, Any]:
        return dict(request.session)

    with TestClient(app) as client, pytest.raises(AssertionError, match="SessionMiddleware must be installed"):
        client.get("/")


def test_oversized_cookie_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client, caplog.at_level(logging.WARNING, logger="covet.sessions"):
        client.post("/session", json={"blob": secrets.token_hex(3000)})  # random: no compression
    assert "browsers drop cookies over 4 KB" in caplog.text


# --- server-side: memory --------------------------------------------------------------------------------


def test_memory_backend_keeps_data_on_the_server() -> None:
    backend = MemorySessionBackend()
    with TestClient(make_app(backend)) as client:
        response = client.post("/session", json={"secret": "s3cr3t"})
        value = set_cookie(response)["value"]
        assert isinstance(value, str) and "s3cr3t" not in value and len(value) < 100
        assert len(backend) == 1
        assert client.get("/session").json() == {"secret": "s3cr3t"}
        client.post("/logout")
        assert len(backend) == 0


def test_memory_backend_expiry_with_an_injected_clock() -> None:
    clock = Clock()
    with TestClient(make_app(MemorySessionBackend(clock=clock), max_age=60)) as client:
        client.post("/session", json={"a": 1})
        clock.now += 59
        assert client.get("/session").json() == {"a": 1}
        clock.now += 2
        assert client.get("/session").json() == {}


def test_memory_backend_sliding_expiry() -> None:
    clock = Clock()
    app = make_app(MemorySessionBackend(clock=clock), max_age=60, refresh_each_request=True)
    with TestClient(app) as client:
        client.post("/session", json={"a": 1})
        for _ in range(3):  # each visit restarts the minute
            clock.now += 50
            assert client.get("/session").json() == {"a": 1}
        clock.now += 61
        assert client.get("/session").json() == {}


def test_memory_backend_regenerate_retires_the_old_id() -> None:
    backend = MemorySessionBackend()
    with TestClient(make_app(backend)) as client:
        client.post("/session", json={"cart": [1]})
        old = client.cookies["session"]
        client.post("/login", data={"user": "ann"})
        new = client.cookies["session"]
        assert old != new and len(backend) == 1
        assert client.get("/session").json() == {"cart": [1], "user": "ann"}
    with TestClient(make_app(backend), cookies={"session": old}) as attacker:
        assert attacker.get("/session").json() == {}  # a fixated id is worth nothing after login


def test_memory_backend_refuses_a_forged_id() -> None:
    with TestClient(make_app(MemorySessionBackend()), cookies={"session": "made-up-id.bad"}) as client:
        response = client.get("/session")
        assert response.json() == {} and set_cookie(response)["max-age"] == "0"


# --- server-side: Redis ----------------------------------------------------------------------------------


def test_redis_round_trip_with_ttl(redis_prefix: tuple[str, redis.Redis]) -> None:
    prefix, r = redis_prefix
    backend = RedisSessionBackend(REDIS_URL, prefix=prefix)
    with TestClient(make_app(backend, max_age=600)) as client:
        client.post("/session", json={"user": "ann"})
        keys = list(r.scan_iter(match=prefix + "*"))
        assert len(keys) == 1
        assert 0 < r.ttl(keys[0]) <= 600
        assert client.get("/count").json() == {"n": 1}
        assert client.get("/session").json() == {"user": "ann", "n": 1}


def test_redis_regenerate_deletes_the_old_entry(redis_prefix: tuple[str, redis.Redis]) -> None:
    prefix, r = redis_prefix
    with TestClient(make_app(RedisSessionBackend(REDIS_URL, prefix=prefix))) as client:
        client.post("/session", json={"cart": [1, 2]})
        (old_key,) = r.scan_iter(match=prefix + "*")
        old_cookie = client.cookies["session"]
        client.post("/login", data={"user": "ann"})
        keys = list(r.scan_iter(match=prefix + "*"))
        assert len(keys) == 1 and keys[0] != old_key and not r.exists(old_key)
        assert client.get("/session").json() == {"cart": [1, 2], "user": "ann"}
        client.cookies.clear()
        client.cookies.set("session", old_cookie)
        assert client.get("/session").json() == {}  # the old id no longer opens anything


def test_redis_logout_deletes_the_entry(redis_prefix: tuple[str, redis.Redis]) -> None:
    prefix, r = redis_prefix
    with TestClient(make_app(RedisSessionBackend(REDIS_URL, prefix=prefix))) as client:
        client.post("/session", json={"user": "ann"})
        assert len(list(r.scan_iter(match=prefix + "*"))) == 1
        client.post("/logout")
        assert list(r.scan_iter(match=prefix + "*")) == []


def test_redis_entry_expires_with_its_ttl(redis_prefix: tuple[str, redis.Redis]) -> None:
    prefix, r = redis_prefix
    with TestClient(make_app(RedisSessionBackend(REDIS_URL, prefix=prefix), max_age=1)) as client:
        client.post("/session", json={"a": 1})
        time.sleep(2.1)
        client.cookies.set("session", client.cookies["session"])
        assert client.get("/session").json() == {}
        assert list(r.scan_iter(match=prefix + "*")) == []


def test_redis_sliding_expiry_restarts_the_ttl(redis_prefix: tuple[str, redis.Redis]) -> None:
    prefix, r = redis_prefix
    app = make_app(RedisSessionBackend(REDIS_URL, prefix=prefix), max_age=600, refresh_each_request=True)
    with TestClient(app) as client:
        client.post("/session", json={"a": 1})
        (key,) = r.scan_iter(match=prefix + "*")
        r.expire(key, 30)
        client.get("/session")
        assert r.ttl(key) > 30
        assert r.get(key) == b'{"a": 1}'


def test_redis_backend_accepts_a_client(redis_prefix: tuple[str, redis.Redis]) -> None:
    from redis.asyncio import Redis

    prefix, r = redis_prefix
    with TestClient(make_app()) as client:  # only for its event loop
        loop: Callable[..., Any] = client._loop.run_until_complete
        own = Redis.from_url(REDIS_URL)
        backend = RedisSessionBackend(own, prefix=prefix)
        loop(backend.write("abc", {"x": 1}, 60))
        assert loop(backend.read("abc")) == {"x": 1} and 0 < r.ttl(prefix + "abc") <= 60
        loop(backend.delete("abc"))
        assert loop(backend.read("abc")) is None
        loop(backend.aclose())  # not ours to close: still usable
        assert loop(own.ping())
        loop(own.aclose())


# --- real servers: covet's own and uvicorn (the ASGI path) --------------------------------------------


@pytest.mark.parametrize("kind", ["covet", "uvicorn"])
def test_redis_sessions_on_a_real_server(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    prefix = f"covet-test:sessions:{uuid.uuid4().hex}:"
    monkeypatch.setenv("COVET_TEST_SESSION_PREFIX", prefix)
    r = redis.Redis.from_url(REDIS_URL)
    try:
        args = ("--workers", "2") if kind == "covet" else ()
        server = serve("tests.apps.sessions:app", *args, kind=kind)
        with server.client() as client:
            assert [client.get("/count").json()["n"] for _ in range(4)] == [1, 2, 3, 4]  # across both workers
            (key,) = r.scan_iter(match=prefix + "*")
            assert 0 < r.ttl(key) <= 14 * 24 * 3600
            token = client.get("/token").json()["token"]
            login = client.post("/login", data={"user": "ann", "csrf_token": token})
            assert login.status_code == 200
            assert not r.exists(key)  # rotated
            assert client.get("/session").json() == {"n": 4, "user": "ann"}
            client.post("/logout", headers={"x-csrf-token": login.json()["token"]})
            assert list(r.scan_iter(match=prefix + "*")) == []
    finally:
        keys = list(r.scan_iter(match=prefix + "*"))
        if keys:
            r.delete(*keys)
        r.close()
