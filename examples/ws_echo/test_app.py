"""The WebSocket example, in memory (TestClient) and on covet's own server (a real client)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from covet import WebSocketDisconnect
from covet.testclient import TestClient
from examples.ws_echo.app import app
from tests.conftest import Server, start_server


def test_echo_in_memory() -> None:
    with TestClient(app) as client:
        with client.websocket_connect("/echo?upper=true") as ws:
            ws.send_text("shout")
            assert ws.receive_text() == "SHOUT"
        assert "new WebSocket" in client.get("/").text


def test_room_in_memory() -> None:
    with TestClient(app) as client:
        with client.websocket_connect("/room?name=ada") as ada:
            assert ada.receive_text() == "ada joined (1 here)"
            with client.websocket_connect("/room?name=bob") as bob:
                assert ada.receive_text() == "bob joined (2 here)"
                assert bob.receive_text() == "bob joined (2 here)"
                bob.send_text("hi all")
                assert ada.receive_text() == "bob: hi all"
                assert bob.receive_text() == "bob: hi all"
            assert ada.receive_text() == "bob left"
        with pytest.raises(WebSocketDisconnect) as info:
            client.websocket_connect("/room")  # name is required
        assert info.value.code == 1008


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = start_server("examples.ws_echo.app:app", "--no-access-log")
    yield srv
    srv.stop()


def test_echo_over_a_socket(server: Server) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/echo", open_timeout=10) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
