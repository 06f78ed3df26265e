"""TrustedHostMiddleware and HTTPSRedirectMiddleware run by the engine: refused hosts, wildcard
names, the www redirect and the redirect to https, answered before routing or Python
middleware; the same through TestClient, covet's server and uvicorn."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from covet import Covet
from covet.middleware.httpsredirect import HTTPSRedirectMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware
from covet.testclient import TestClient
from tests.apps.guarded import https_app
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.guarded:secure_app")


@pytest.mark.parametrize("host", ["api.example.com", "a.b.example.com", "API.Example.COM:8443", "www.example.org"])
def test_allowed_hosts(client: httpx.Client, host: str) -> None:
    r = client.get("/who", headers={"host": host})
    assert r.status_code == 200
    assert r.json()["host"] == host


@pytest.mark.parametrize("host", ["evil.com", "example.com", "example.com.evil.net", "bad host", "a/b"])
def test_other_hosts_are_refused(client: httpx.Client, host: str) -> None:
    r = client.get("/who", headers={"host": host})
    assert r.status_code == 400
    assert r.json() == {"detail": "Invalid host header"}


def test_refused_before_python_middleware(client: httpx.Client) -> None:
    r = client.get("/json", headers={"host": "evil.com", "x-short-circuit": "1"})
    assert r.status_code == 400
    assert "x-python" not in r.headers


def test_www_redirect(client: httpx.Client) -> None:
    r = client.get("/json?x=1", headers={"host": "example.org"}, follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "http://www.example.org/json?x=1"


def test_www_redirect_can_be_turned_off() -> None:
    app = Covet()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["www.example.org"], www_redirect=False)
    with TestClient(app) as tc:
        assert tc.get("/", headers={"host": "example.org"}).status_code == 400


def test_misplaced_wildcards_are_refused_when_added() -> None:
    app = Covet()
    for pattern in ("example.*", "*example.com", "a.*.com"):
        with pytest.raises(ValueError, match="wildcard"):
            app.add_middleware(TrustedHostMiddleware, allowed_hosts=[pattern])


# --- HTTPSRedirectMiddleware ---------------------------------------------------------------


@pytest.fixture(scope="module")
def plain() -> TestClient:
    with TestClient(https_app, follow_redirects=False) as tc:
        yield tc


def test_http_is_redirected_to_https(plain: TestClient) -> None:
    for method in ("GET", "POST", "HEAD"):
        r = plain.request(method, "/json?x=1")
        assert r.status_code == 307
        assert r.headers["location"] == "https://testserver/json?x=1"


def test_default_port_is_dropped_and_others_kept(plain: TestClient) -> None:
    assert plain.get("/a%20b", headers={"host": "site.io:80"}).headers["location"] == "https://site.io/a%20b"
    assert plain.get("/", headers={"host": "site.io:8080"}).headers["location"] == "https://site.io:8080/"


def test_trusted_forwarded_proto_passes(plain: TestClient) -> None:
    r = plain.get("/who", headers={"x-forwarded-proto": "https"})
    assert r.status_code == 200


def test_untrusted_forwarded_proto_is_still_redirected() -> None:
    app = Covet()
    app.add_middleware(HTTPSRedirectMiddleware, status_code=308)
    with TestClient(app, follow_redirects=False) as tc:
        r = tc.get("/", headers={"x-forwarded-proto": "https"})
        assert r.status_code == 308
        assert r.headers["location"] == "https://testserver/"


def test_https_connection_passes_through_asgi() -> None:
    async def fetch(base_url: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=https_app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as ac:
            return await ac.get("/json")

    assert asyncio.run(fetch("https://testserver")).json() == {"hello": 1}
    redirected = asyncio.run(fetch("http://testserver"))
    assert redirected.status_code == 307
    assert redirected.headers["location"] == "https://testserver/json"


def test_bad_status_is_refused() -> None:
    with pytest.raises(ValueError, match="301, 302, 307 or 308"):
        Covet().add_middleware(HTTPSRedirectMiddleware, status_code=200)
