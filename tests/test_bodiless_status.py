"""A route declared with a bodiless status (204, 304) answers with no body and no content type,
whatever its handler returns, as FastAPI does. On covet's server a `null` body after a 204 used
to be read by a keep-alive client as the start of the next response."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.conftest import served_three_ways, start_server

client = served_three_ways("tests.apps.bodiless:app")


@pytest.mark.parametrize("path", ["/items/3", "/quiet"])
def test_204_has_no_body_and_no_content_type(client: httpx.Client, path: str) -> None:
    response = client.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers


def test_304_has_no_body(client: httpx.Client) -> None:
    response = client.get("/unchanged")
    assert response.status_code == 304 and response.content == b""


def test_a_pipelined_keep_alive_connection_stays_in_step() -> None:
    """Three pipelined requests on one connection: two 204s then a 200, each answer whole and
    nothing between them."""
    server = start_server("tests.apps.bodiless:app", "--no-access-log")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"DELETE /items/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                b"DELETE /quiet HTTP/1.1\r\nHost: t\r\n\r\n"
                b"GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            )
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    finally:
        server.stop()
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"204 No Content", b"204 No Content", b"200 OK"]
    assert all(a.endswith(b"\r\n\r\n") for a in answers[:2]), received
    assert answers[2].endswith(b'{"a":1}')


def test_the_status_the_handler_sets_decides(client: httpx.Client) -> None:
    refused = client.delete("/overridden/7")
    assert refused.status_code == 400 and refused.json() == {"msg": "refused", "id": 7}
    emptied = client.post("/emptied")
    assert emptied.status_code == 204 and emptied.content == b""
    assert "content-length" not in emptied.headers
