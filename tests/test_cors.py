"""CORSMiddleware run by the engine: preflights answered before routing, headers on simple
responses; the same through TestClient, covet's server and uvicorn, and the same answers as
Starlette's CORSMiddleware for the same requests."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.middleware.cors import CORSMiddleware as StarletteCORS
from starlette.responses import JSONResponse as StarletteJSON
from starlette.routing import Route

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient warns that it would prefer httpx2
    from starlette.testclient import TestClient as StarletteClient

from covet import Covet
from covet.middleware.cors import CORSMiddleware
from covet.testclient import TestClient
from tests.apps.guarded import CORS_OPTIONS, CREDENTIALS_OPTIONS
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.guarded:cors_app")

ALLOWED = "https://app.example.com"


def preflight(origin: str, method: str, headers: str | None = None) -> dict[str, str]:
    asked = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        asked["access-control-request-headers"] = headers
    return asked


def test_preflight_allowed_is_answered_with_the_allow_headers(client: httpx.Client) -> None:
    r = client.options("/json", headers=preflight(ALLOWED, "POST", "X-Token, content-type"))
    assert r.status_code == 200
    assert r.text == "OK"
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers["access-control-allow-methods"] == "GET, POST"
    assert r.headers["access-control-max-age"] == "300"
    allow = r.headers["access-control-allow-headers"]
    assert allow == "Accept, Accept-Language, Content-Language, Content-Type, X-Token"
    assert r.headers["vary"].startswith("Origin, Access-Control-Request-Method")


@pytest.mark.parametrize(
    ("asked", "failure"),
    [
        (preflight("https://evil.com", "GET"), "origin"),
        (preflight(ALLOWED, "DELETE"), "method"),
        (preflight(ALLOWED, "GET", "X-Token, X-Other"), "headers"),
        (preflight("https://evil.com", "PUT", "X-Other"), "origin, method, headers"),
    ],
)
def test_preflight_disallowed_is_refused(client: httpx.Client, asked: dict[str, str], failure: str) -> None:
    r = client.options("/json", headers=asked)
    assert r.status_code == 400
    assert r.json() == {"detail": f"Disallowed CORS {failure}"}
    # As in Starlette, an allowed origin is still named when only the method or headers fail.
    assert ("access-control-allow-origin" in r.headers) == ("origin" not in failure)


def test_preflight_to_any_path_never_reaches_routing(client: httpx.Client) -> None:
    # No route has OPTIONS (nor /nowhere at all): the engine answers before routing.
    assert client.options("/nowhere", headers=preflight(ALLOWED, "GET")).status_code == 200
    # Without Access-Control-Request-Method it is an ordinary OPTIONS request.
    assert client.options("/json", headers={"origin": ALLOWED}).status_code == 405


def test_simple_request_from_an_allowed_origin(client: httpx.Client) -> None:
    r = client.get("/json", headers={"origin": ALLOWED})
    assert r.status_code == 200
    assert r.json() == {"hello": 1}
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers["access-control-expose-headers"] == "X-Total"
    assert r.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in r.headers


def test_origin_regex_matches_whole_origins(client: httpx.Client) -> None:
    r = client.get("/json", headers={"origin": "https://api.trusted.org"})
    assert r.headers["access-control-allow-origin"] == "https://api.trusted.org"
    r = client.get("/json", headers={"origin": "https://api.trusted.org.evil.com"})
    assert "access-control-allow-origin" not in r.headers
    r = client.options("/json", headers=preflight("https://x.trusted.org", "POST"))
    assert r.status_code == 200


def test_simple_request_from_another_origin_gets_no_allow_origin(client: httpx.Client) -> None:
    r = client.get("/json", headers={"origin": "https://evil.com"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["vary"] == "Origin"


def test_every_kind_of_response_varies_on_origin(client: httpx.Client) -> None:
    for path in ("/json", "/html", "/stream", "/teapot", "/missing"):
        r = client.get(path, headers={"origin": ALLOWED})
        assert r.headers["access-control-allow-origin"] == ALLOWED, path
        assert "Origin" in r.headers["vary"], path
    r = client.post("/json", json={"a": 1}, headers={"origin": ALLOWED})
    assert r.json() == {"a": 1}
    assert r.headers["access-control-allow-origin"] == ALLOWED


def test_the_apps_own_vary_is_kept(client: httpx.Client) -> None:
    r = client.get("/own-headers", headers={"origin": ALLOWED})
    assert r.headers["vary"] == "Accept-Encoding, Origin"


def test_wildcard_with_credentials_echoes_the_origin() -> None:
    from tests.apps.guarded import credentials_app

    with TestClient(credentials_app) as tc:
        r = tc.get("/json", headers={"origin": "https://anyone.net"})
        assert r.headers["access-control-allow-origin"] == "https://anyone.net"
        assert r.headers["access-control-allow-credentials"] == "true"
        r = tc.options("/json", headers=preflight("https://anyone.net", "GET", "X-Whatever"))
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://anyone.net"
        assert r.headers["access-control-allow-headers"] == "X-Whatever"
        assert r.headers["access-control-allow-credentials"] == "true"


def test_wildcard_without_credentials_says_star() -> None:
    app = Covet()

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(CORSMiddleware, allow_origins=["*"])
    with TestClient(app) as tc:
        r = tc.get("/", headers={"origin": "https://anyone.net"})
        assert r.headers["access-control-allow-origin"] == "*"
        r = tc.options("/", headers=preflight("https://anyone.net", "GET"))
        assert r.headers["access-control-allow-origin"] == "*"


def test_bad_options_are_refused_when_added() -> None:
    app = Covet()
    with pytest.raises(ValueError, match="allow_origin_regex"):
        app.add_middleware(CORSMiddleware, allow_origin_regex="(unclosed")
    with pytest.raises(ValueError, match="CR, LF"):
        app.add_middleware(CORSMiddleware, expose_headers=["X-A\r\nSet-Cookie: a=b"])
    with pytest.raises(TypeError, match="list of strings"):
        app.add_middleware(CORSMiddleware, allow_origins="https://a.com")
    assert app.user_middleware == []


# --- the same requests against Starlette's CORSMiddleware ------------------------------------

CASES: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/json", {}),
    ("GET", "/json", {"origin": ALLOWED}),
    ("GET", "/json", {"origin": "https://evil.com"}),
    ("GET", "/json", {"origin": "https://a.trusted.org"}),
    ("OPTIONS", "/json", preflight(ALLOWED, "POST", "x-token")),
    ("OPTIONS", "/json", preflight(ALLOWED, "PATCH")),
    ("OPTIONS", "/json", preflight("https://evil.com", "GET", "X-Other")),
    ("OPTIONS", "/json", {**preflight(ALLOWED, "GET"), "access-control-request-private-network": "true"}),
]
COMPARED = ("access-control-", "vary")


def _starlette(options: dict[str, Any]) -> StarletteClient:
    async def json(request: Any) -> StarletteJSON:
        return StarletteJSON({"hello": 1})

    app = Starlette(
        routes=[Route("/json", json, methods=["GET", "POST"])],
        middleware=[StarletteMiddleware(StarletteCORS, **options)],
    )
    return StarletteClient(app)


def _cors_view(r: httpx.Response) -> tuple[int, dict[str, str]]:
    headers = {k: v for k, v in r.headers.items() if k.startswith(COMPARED)}
    return r.status_code, headers


@pytest.mark.parametrize("options", [CORS_OPTIONS, CREDENTIALS_OPTIONS], ids=["listed", "credentials"])
def test_same_answers_as_starlette(options: dict[str, Any]) -> None:
    app = Covet()

    @app.api_route("/json", methods=["GET", "POST"])
    async def json() -> dict[str, int]:
        return {"hello": 1}

    app.add_middleware(CORSMiddleware, **options)
    with TestClient(app) as ours, _starlette(options) as theirs:
        for method, path, headers in CASES:
            mine = ours.request(method, path, headers=headers)
            reference = theirs.request(method, path, headers=headers)
            assert _cors_view(mine) == _cors_view(reference), (method, headers)
            if reference.status_code == 400:
                assert mine.json()["detail"] == reference.text


def test_the_engine_refuses_unknown_options() -> None:
    from covet import _engine

    with pytest.raises(ValueError, match='no option "allow_origin"'):
        _engine.Policy([("cors", {"allow_origin": ["https://a.com"]})])
    with pytest.raises(ValueError, match="unknown engine middleware"):
        _engine.Policy([("gzip", {})])
