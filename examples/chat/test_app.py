"""The chat example without a browser: in memory (TestClient, in-process rooms) and as two
covet processes sharing rooms through the real Redis (a real WebSocket client)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from covet import WebSocketDisconnect
from covet.testclient import TestClient
from examples.chat.app import app
from tests.conftest import Server, chat_servers


def test_rooms_in_memory() -> None:
    with TestClient(app) as client:
        assert "new WebSocket" in client.get("/").text
        with (
            client.websocket_connect("/ws/red?name=ada") as ada,
            client.websocket_connect("/ws/blue?name=cy") as cy,
        ):
            assert ada.receive_json() == {"type": "join", "name": "ada", "online": 1}
            assert cy.receive_json() == {"type": "join", "name": "cy", "online": 1}
            with client.websocket_connect("/ws/red?name=bob") as bob:
                assert ada.receive_json()["name"] == "bob"
                assert bob.receive_json() == {"type": "join", "name": "bob", "online": 2}
                bob.send_text("  hi red  ")
                line = {"type": "message", "room": "red", "name": "bob", "text": "hi red"}
                assert ada.receive_json() == line
                assert bob.receive_json() == line
            assert ada.receive_json() == {"type": "leave", "name": "bob", "online": 1}
            cy.send_text("x" * 2000)
            assert cy.receive_json()["text"] == "x" * 500  # lines are cut at 500 characters
            assert client.get("/rooms/red").json() == {"room": "red", "online": 1}
        for bad in ("/ws/no%20spaces?name=a", "/ws/red?name=" + "n" * 21):
            with pytest.raises(WebSocketDisconnect) as info:
                client.websocket_connect(bad)
            assert info.value.code == 1008
        assert client.get("/rooms/bad room!").status_code == 422


@pytest.fixture
def two_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server]]:
    with chat_servers(monkeypatch, "chat") as pair:
        yield pair


def test_rooms_across_processes(two_workers: tuple[Server, Server]) -> None:
    a, b = two_workers
    with (
        connect(f"ws://127.0.0.1:{a.port}/ws/red?name=ada", open_timeout=10) as ada,
        connect(f"ws://127.0.0.1:{b.port}/ws/blue?name=cy", open_timeout=10) as cy,
    ):
        assert json.loads(ada.recv(timeout=10))["name"] == "ada"
        assert json.loads(cy.recv(timeout=10))["name"] == "cy"
        with connect(f"ws://127.0.0.1:{b.port}/ws/red?name=bob", open_timeout=10) as bob:
            assert json.loads(bob.recv(timeout=10))["name"] == "bob"
            assert json.loads(ada.recv(timeout=10)) == json.loads('{"type":"join","name":"bob","online":2}')
            ada.send("hello bob")
            for ws in (ada, bob):
                got = json.loads(ws.recv(timeout=10))
                assert got.get("text") == "hello bob", got
            cy.send("blue only")
            assert json.loads(cy.recv(timeout=10))["text"] == "blue only"
            bob.send("red again")
            # Ada's next line is Bob's: "blue only" never reached the red room.
            assert json.loads(ada.recv(timeout=10))["text"] == "red again"
            assert json.loads(bob.recv(timeout=10))["text"] == "red again"
