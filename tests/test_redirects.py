"""The trailing-slash redirect: its `Location` is the path percent-encoded, starting with exactly
one `/`, so it can never send a browser to another host (`/\\evil.example/` and
`//evil.example/` are both read as scheme-relative), on both paths of covet's server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from covet.testclient import TestClient
from tests.apps.bad_input import app as engine_app
from tests.conftest import Server
from tests.test_bad_input import send_raw, stop_and_read

CASES = {
    b"/%5Cevil.example": "/%5Cevil.example/",
    b"/%5C%5Cevil.example?next=1": "/%5C%5Cevil.example/?next=1",
    b"/pages/%5Cevil.example": "/pages/%5Cevil.example/",
    b"/a%0D%0AX-Injected:%201": "/a%0D%0AX-Injected:%201/",
    b"/caf%C3%A9%20au%25lait": "/caf%C3%A9%20au%25lait/",
    b"/%2E%2E": "/%2E%2E/",
}


@pytest.mark.parametrize("app", ["app", "python_app"])
def test_redirect_location_is_encoded_and_never_scheme_relative(serve: Callable[..., Server], app: str) -> None:
    server = serve(f"tests.apps.bad_input:{app}")
    for target, location in CASES.items():
        status, headers, _ = send_raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, headers["location"]) == (307, location), target
        assert "x-injected" not in headers
    for target in (b"//evil.example", b"///evil.example", b"/%2F%2Fevil.example"):
        status, headers, _ = send_raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not headers.get("location", "/x").startswith("//"), (target, status, headers)
    lines = stop_and_read(server)
    assert len(lines) == len(CASES) + 3, lines
    # The decoded path's CR/LF is escaped in the access line, not a forged line of its own.
    assert any(line.endswith('"GET /a\\r\\nX-Injected: 1 HTTP/1.1" 307') for line in lines), lines


def test_testclient_follows_to_the_same_place() -> None:
    with TestClient(engine_app) as tc:
        r = tc.get("/%5Cevil.example", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (307, "/%5Cevil.example/")
        assert tc.get("/%5Cevil.example").json() == {"slug": "\\evil.example"}
