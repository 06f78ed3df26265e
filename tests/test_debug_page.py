"""The debug page (covet.debug): frames with source and locals, the request, library frames
folded; never shown without debug; its console needs the PIN printed at start and a loopback
peer, checked on covet's server with a real non-loopback peer (this machine's own eth0 address)."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import httpx
import pytest

from covet import Covet
from covet.testclient import TestClient
from tests.conftest import wait_for

BROWSER = {"accept": "text/html"}


def boom_app(debug: bool) -> Covet:
    app = Covet(debug=debug)

    @app.post("/boom")
    async def boom(payload: dict[str, Any]) -> None:
        secret_local = f"visible {payload['word']}"
        json.loads(secret_local)  # raises in the standard library's frames

    return app


def test_page_shows_frames_locals_and_request() -> None:
    client = TestClient(boom_app(True), raise_server_exceptions=False)
    page = client.post("/boom?q=search", json={"word": "ABCDEF"}, headers={**BROWSER, "x-probe": "probe-value"})
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "secret_local" in text and "&#x27;visible ABCDEF&#x27;" in text  # a local of the handler's frame
    assert "json.loads(secret_local)" in text  # its source line
    assert "x-probe" in text and "probe-value" in text and "search" in text  # headers and query
    assert "{&quot;word&quot;:&quot;ABCDEF&quot;}" in text  # the body
    assert '<details class="frame lib"><summary>' in text  # library frames are folded
    assert 'id="copy"' in text and "Traceback (most recent call last)" in text
    assert 'form class="console"' not in text  # no console unless enabled
    plain = client.post("/boom", json={"word": "x"})
    assert plain.headers["content-type"].startswith("text/plain") and "JSONDecodeError" in plain.text


def test_production_app_never_shows_it() -> None:
    client = TestClient(boom_app(False), raise_server_exceptions=False)
    for headers in (BROWSER, {}):
        response = client.post("/boom", json={"word": "ABCDEF"}, headers=headers)
        assert response.status_code == 500 and response.text == "Internal Server Error"


def test_console_refuses_a_peer_that_is_not_an_ip_address() -> None:
    from tests.apps.debug_app import app

    with TestClient(app, raise_server_exceptions=False) as client:  # its peer is "testclient"
        page = client.post("/boom", content=b"[1, 2]", headers=BROWSER)
        assert page.status_code == 500 and "ZeroDivisionError" in page.text and 'id="pin"' not in page.text
        refused = client.post("/__covet__/console", json={"pin": "x", "tb": "x", "frame": 0, "expr": "1"})
        assert refused.status_code == 403


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (a peer connecting from it is not local)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this picks the outgoing interface
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_console_pin_and_peer(serve: Any) -> None:
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    server = serve("tests.apps.debug_app:app", "--host", "0.0.0.0", "--no-access-log")
    wait_for(lambda: "Console PIN:" in server.output(), "the PIN printed at start")
    pin = re.search(r"Console PIN: (\d{3}-\d{3}-\d{3})", server.output()).group(1)  # type: ignore[union-attr]

    local = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10)
    page = local.post("/boom", content=b"[4, 5, 6]", headers=BROWSER)
    assert page.status_code == 500 and 'id="pin"' in page.text
    key, frame = re.findall(r'data-tb="(\w+)" data-frame="(\d+)"', page.text)[-1]  # the last frame: helper

    def console(client: httpx.Client, pin: str, expr: str, **headers: str) -> httpx.Response:
        body = {"pin": pin, "tb": key, "frame": int(frame), "expr": expr}
        return client.post("/__covet__/console", json=body, headers=headers)

    assert console(local, "", "total").status_code == 401
    assert console(local, "000-000-000", "total").status_code == 401
    ran = console(local, pin, "total * 2")
    assert ran.status_code == 200 and ran.json() == {"output": "30"}  # helper's local `total` is 15
    assert console(local, pin, "x = total + 1\nprint(x)").json() == {"output": "16\n"}
    assert console(local, pin, "x").json() == {"output": "16"}  # the frame's console keeps its names
    assert console(local, pin, "total", **{"x-forwarded-for": "203.0.113.9"}).status_code == 403

    # A real peer that is not loopback: this machine's own non-loopback address.
    remote = httpx.Client(base_url=f"http://{outside}:{server.port}", timeout=10)
    remote_page = remote.post("/boom", content=b"[1, 2]", headers=BROWSER)
    assert remote_page.status_code == 500 and 'id="pin"' not in remote_page.text  # the page, no console
    refused = console(remote, pin, "total")
    assert refused.status_code == 403 and "loopback" in refused.json()["detail"]
