"""TrustedHostMiddleware and HTTPSRedirectMiddleware run by the engine: refused hosts, wildcard
names, the www redirect and the redirect to https, answered before routing or Python
middleware; the same through TestClient, covet's server and uvicorn."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from covet import Covet
from covet.middleware.httpsredirect import HTTPSRedirectMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware
from covet.testclient import TestClient
from tests.apps.guarded import https_app
from tests.conftest import served_three_ways, start_server

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


# --- on covet's own server: pipelining, streamed bodies, logs ----------------------------------


def test_early_answers_keep_pipelined_requests_in_order(serve) -> None:  # type: ignore[no-untyped-def]
    from tests.test_server import connect, read_response

    server = serve("tests.apps.guarded:secure_app", "--no-access-log")
    sock = connect(server.port)
    sock.sendall(
        b"GET /json HTTP/1.1\r\nHost: evil.com\r\n\r\n"
        b"OPTIONS /json HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://app.example.com\r\n"
        b"Access-Control-Request-Method: GET\r\n\r\n"
        b"GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    answers = [read_response(sock) for _ in range(3)]
    sock.close()
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK"]
    assert answers[0][2] == b'{"detail":"Invalid host header"}'
    assert answers[1][1]["access-control-allow-origin"] == "https://app.example.com"
    assert answers[2][2] == b'{"hello":1}'
    assert all(headers["x-frame-options"] == "DENY" for _, headers, _ in answers)
    _, log = server.stop()
    assert "Refused a request from 127.0.0.1" in log
    assert "400 Invalid host header" in log


def test_a_refused_upload_is_not_read() -> None:
    from tests.apps.guarded import secure_app

    body = b"{" + b'"a": 1, ' * 2000 + b'"b": 2}'
    with TestClient(secure_app, stream_threshold=1024) as tc:
        refused = tc.post("/json", content=body, headers={"host": "evil.com", "content-type": "application/json"})
        assert refused.status_code == 400
        accepted = tc.post("/json", content=body, headers={"content-type": "application/json"})
        assert accepted.json() == {"a": 1, "b": 2}


def test_refusals_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    from tests.apps.guarded import secure_app

    with TestClient(secure_app) as tc, caplog.at_level("WARNING", logger="covet.server"):
        tc.get("/json", headers={"host": "evil.com"})
    assert "Refused a request from testclient:50000: 400 Invalid host header" in caplog.text


@pytest.mark.parametrize("kind", ["covet", "uvicorn"])
def test_two_host_headers_are_refused(kind: str) -> None:
    # The first Host is allowed; the second must not ride along on it (issue 14). covet's
    # parser refuses the request; uvicorn's parser does too (the engine stage's own check, for
    # ASGI servers that pass both through, is tested in crates/covet-engine/src/policy/hosts.rs).
    server = start_server("tests.apps.guarded:secure_app", kind=kind)
    try:
        raw = b"GET /who HTTP/1.1\r\nHost: api.example.com\r\nHost: evil.com\r\nConnection: close\r\n\r\n"
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(raw)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 400 "), data
        assert b"evil.com" not in data
    finally:
        server.stop(timeout=10)
