"""SecurityHeadersMiddleware run by the engine: every kind of response gets the headers
(JSON written by the engine, HTML and streaming responses from Python, native 404s, early
answers of inner engine middleware, Python middleware answers); HSTS only over https."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from covet import Covet
from covet.middleware.security import SecurityHeadersMiddleware
from covet.testclient import TestClient
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.guarded:secure_app")

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": "default-src 'self'",
    "permissions-policy": "geolocation=()",
}


def assert_secured(r: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert r.headers.get_list(name) == [value], (r.request.url, name)


@pytest.mark.parametrize("path", ["/json", "/html", "/stream", "/teapot", "/missing"])
def test_every_response_kind_has_the_headers(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (200, 404, 418)
    assert_secured(r)
    assert "strict-transport-security" not in r.headers  # plain http


def test_bodies_are_untouched(client: httpx.Client) -> None:
    assert client.get("/json").json() == {"hello": 1}
    assert client.get("/html").text == "<p>hi</p>"
    assert client.get("/stream").text == "one two"
    assert client.get("/teapot").json() == {"detail": "short and stout"}


def test_head_and_post(client: httpx.Client) -> None:
    assert_secured(client.head("/json"))
    r = client.post("/json", json={"x": 2})
    assert r.json() == {"x": 2}
    assert_secured(r)


def test_python_middleware_runs_inside_the_engine_middleware(client: httpx.Client) -> None:
    r = client.get("/json")
    assert r.headers["x-python"] == "yes"
    short = client.get("/json", headers={"x-short-circuit": "1"})
    assert short.status_code == 401
    assert short.json() == {"from": "python middleware"}
    assert_secured(short)


def test_the_apps_own_value_wins(client: httpx.Client) -> None:
    r = client.get("/own-headers")
    assert r.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_an_inner_engine_answer_gets_the_outer_headers(client: httpx.Client) -> None:
    # Trusted hosts sits inside the security headers (and CORS): its 400 carries theirs.
    r = client.get("/json", headers={"host": "evil.com"})
    assert r.status_code == 400
    assert_secured(r)
    assert r.headers["vary"] == "Origin"


def test_hsts_behind_a_trusted_proxy_saying_https(client: httpx.Client) -> None:
    r = client.get("/json", headers={"x-forwarded-proto": "https"})
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert_secured(r)


def _app(**options: object) -> Covet:
    app = Covet()

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(SecurityHeadersMiddleware, **options)
    return app


def test_forwarded_proto_is_ignored_unless_trusted() -> None:
    with TestClient(_app()) as tc:
        r = tc.get("/", headers={"x-forwarded-proto": "https"})
        assert "strict-transport-security" not in r.headers
        assert r.headers["x-frame-options"] == "DENY"


def test_hsts_on_an_https_connection_through_asgi() -> None:
    app = _app(hsts_max_age=600, hsts_include_subdomains=False, hsts_preload=True)

    async def fetch(base_url: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as ac:
            return await ac.get("/")

    assert asyncio.run(fetch("https://testserver")).headers["strict-transport-security"] == "max-age=600; preload"
    assert "strict-transport-security" not in asyncio.run(fetch("http://testserver")).headers


def test_each_header_can_be_turned_off() -> None:
    off = _app(
        hsts_max_age=None,
        x_content_type_options=False,
        x_frame_options=None,
        referrer_policy=None,
        cross_origin_opener_policy=None,
    )
    with TestClient(off) as tc:
        r = tc.get("/", headers={"x-forwarded-proto": "https"})
        names = {k for k in r.headers if k not in ("content-type", "content-length", "date", "connection")}
        assert names == set()


def test_header_values_with_line_breaks_are_refused_when_added() -> None:
    app = Covet()
    with pytest.raises(ValueError, match="CR, LF"):
        app.add_middleware(SecurityHeadersMiddleware, content_security_policy="default-src 'self'\r\nSet-Cookie: a=b")
    with pytest.raises(ValueError, match="CR, LF"):
        app.add_middleware(SecurityHeadersMiddleware, x_frame_options="DENY\n")


def test_wrapping_an_app_by_hand_says_how_to_add_it() -> None:
    wrapped = SecurityHeadersMiddleware(_app())
    with pytest.raises(TypeError, match=r"app.add_middleware\(SecurityHeadersMiddleware"):
        asyncio.run(wrapped({"type": "http"}, None, None))  # type: ignore[arg-type]
