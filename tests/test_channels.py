"""covet.channels: rooms in one process (TestClient) and across covet processes on real Redis,
including a Redis restart (on a redis-server of the test's own)."""

from __future__ import annotations

import contextlib
import json
import signal
import uuid
from collections.abc import Iterator

import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from covet import Covet, WebSocket
from covet.channels import Channels
from covet.testclient import TestClient
from tests.apps import channels as channels_app
from tests.backends import OwnRedis
from tests.conftest import Server, start_server, wait_for

REDIS_URL = "redis://127.0.0.1:6379/0"


# --- helpers -------------------------------------------------------------------------------------


def join(server: Server, room: str, stack: contextlib.ExitStack) -> ClientConnection:
    ws = stack.enter_context(connect(f"ws://127.0.0.1:{server.port}/ws/{room}", open_timeout=10))
    assert ws.recv(timeout=10).startswith(f"joined {room} ")
    return ws


def presence(server: Server, room: str) -> dict[str, int]:
    with server.client() as client:
        return client.get(f"/presence/{room}").json()  # type: ignore[no-any-return]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    value = f"covet-test:channels:{uuid.uuid4().hex}:"
    yield value
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(match=f"{value}*"))
    if keys:
        r.delete(*keys)
    r.close()


@pytest.fixture
def two_servers(prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server]]:
    monkeypatch.setenv("CHANNELS_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("CHANNELS_PREFIX", prefix)
    a = start_server("tests.apps.channels:app", "--no-access-log")
    b = start_server("tests.apps.channels:app", "--no-access-log")
    yield a, b
    a.stop()
    b.stop()


# --- one process, through the TestClient --------------------------------------------------------


def test_rooms_in_one_process() -> None:
    with TestClient(channels_app.app) as client:
        with (
            client.websocket_connect("/ws/red") as ada,
            client.websocket_connect("/ws/red") as bob,
            client.websocket_connect("/ws/blue") as cy,
        ):
            for ws in (ada, bob, cy):
                assert ws.receive_text().startswith("joined ")
            ada.send_text("say red hello")
            assert ada.receive_text() == "hello"
            assert bob.receive_text() == "hello"
            bob.send_text("bytes red raw")
            assert ada.receive_bytes() == b"raw"
            assert bob.receive_bytes() == b"raw"
            cy.send_text("json red from blue")
            assert json.loads(ada.receive_text())["text"] == "from blue"
            assert json.loads(bob.receive_text())["text"] == "from blue"
            ada.send_text("count red")
            assert ada.receive_text() == "count red 2 2"
            bob.send_text("leave red")
            assert bob.receive_text() == "left red"
            ada.send_text("say red after")
            assert ada.receive_text() == "after"
            # Bob left red and Cy was never there: the first thing each gets is this.
            ada.send_text("say blue marker")
            assert cy.receive_text() == "marker"
            bob.send_text("count red")
            assert bob.receive_text() == "count red 1 1"
            with client.websocket_connect("/ws/red") as dan:
                assert dan.receive_text().startswith("joined red")
                ada.send_text("count red")
                assert ada.receive_text() == "count red 2 2"
            # Dan closed without leaving: he is no longer counted, nor sent to.
            ada.send_text("count red")
            assert ada.receive_text() == "count red 1 1"


def test_join_checks_its_arguments() -> None:
    app = Covet()
    hub = Channels()
    errors: list[str] = []

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        try:
            await hub.join("early", websocket)
        except RuntimeError as exc:
            errors.append(str(exc)[:42])
        await websocket.accept()
        for bad in ("", "x" * 300):
            try:
                await hub.join(bad, websocket)
            except ValueError as exc:
                errors.append(str(exc)[:30])
        await websocket.send_text("done")

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "done"
    assert errors == [
        "Only an accepted WebSocket can join a room",
        "A room name is a non-empty str",
        "A room name is a non-empty str",
    ]


# --- two processes on one Redis -----------------------------------------------------------------


def test_a_room_spans_processes(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    with contextlib.ExitStack() as stack:
        ada = join(a, "lobby", stack)
        bob = join(b, "lobby", stack)
        cy = join(b, "kitchen", stack)
        dee = join(a, "kitchen", stack)
        ada.send("say lobby hello from a")
        assert ada.recv(timeout=10) == "hello from a"
        assert bob.recv(timeout=10) == "hello from a"
        bob.send("bytes lobby from b")
        assert ada.recv(timeout=10) == b"from b"
        assert bob.recv(timeout=10) == b"from b"
        bob.send("json lobby structured")
        got = [json.loads(ada.recv(timeout=10)), json.loads(bob.recv(timeout=10))]
        assert got[0] == got[1] and got[0]["text"] == "structured"
        # Each message came once: the next thing everyone sees is a marker sent after them
        # (Redis delivers a subscriber's messages in publish order, so a duplicate of the
        # earlier ones would come first).
        bob.send("say lobby marker")
        assert ada.recv(timeout=10) == "marker"
        assert bob.recv(timeout=10) == "marker"
        # Nobody in the kitchen heard the lobby.
        ada.send("say kitchen kitchen only")
        assert cy.recv(timeout=10) == "kitchen only"
        assert dee.recv(timeout=10) == "kitchen only"
        wait_for(lambda: presence(a, "lobby") == {"local": 1, "total": 2}, "presence 1/2 on a")
        wait_for(lambda: presence(b, "lobby") == {"local": 1, "total": 2}, "presence 1/2 on b")


def test_leave_and_close_remove_members(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    with contextlib.ExitStack() as stack:
        ada = join(a, "hall", stack)
        bob = join(b, "hall", stack)
        with connect(f"ws://127.0.0.1:{b.port}/ws/hall", open_timeout=10) as cy:
            assert cy.recv(timeout=10).startswith("joined hall")
            wait_for(lambda: presence(a, "hall")["total"] == 3, "three in the hall")
        # Cy closed without leaving: the sweep takes the member off, here and in Redis.
        wait_for(lambda: presence(a, "hall")["total"] == 2, "Cy gone")
        assert presence(b, "hall") == {"local": 1, "total": 2}
        bob.send("leave hall")
        assert bob.recv(timeout=10) == "left hall"
        wait_for(lambda: presence(a, "hall") == {"local": 1, "total": 1}, "Bob gone")
        ada.send("say hall anyone?")
        assert ada.recv(timeout=10) == "anyone?"
        # Bob, on the other process, no longer gets the hall: his next message is his own room's.
        ada.send("join bobs")
        assert ada.recv(timeout=10).startswith("joined bobs")
        bob.send("join bobs")
        assert bob.recv(timeout=10).startswith("joined bobs")
        ada.send("say bobs only bobs")
        assert bob.recv(timeout=10) == "only bobs"
        assert ada.recv(timeout=10) == "only bobs"


def test_a_dead_process_stops_counting(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    with contextlib.ExitStack() as stack:
        join(a, "wake", stack)
        join(b, "wake", stack)
        wait_for(lambda: presence(a, "wake")["total"] == 2, "two awake")
        b.stop(signal.SIGKILL)
        # b said no goodbye: its heartbeat key expires (3 heartbeats of 0.5 s) and it stops counting.
        wait_for(lambda: presence(a, "wake")["total"] == 1, "b's members to stop counting")


# --- Redis restarting ----------------------------------------------------------------------------


def test_redis_restart(own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNELS_REDIS_URL", own_redis.url)
    monkeypatch.setenv("CHANNELS_PREFIX", "covet-test:channels:restart:")
    a = start_server("tests.apps.channels:app", "--no-access-log")
    b = start_server("tests.apps.channels:app", "--no-access-log")
    try:
        with contextlib.ExitStack() as stack:
            ada = join(a, "ops", stack)
            amy = join(a, "ops", stack)
            bob = join(b, "ops", stack)
            ada.send("say ops before")
            assert [ws.recv(timeout=10) for ws in (ada, amy, bob)] == ["before"] * 3

            own_redis.kill()
            # Redis is down: local members still get it, the other process's copy is dropped.
            ada.send("say ops while down")
            assert ada.recv(timeout=10) == "while down"
            assert amy.recv(timeout=10) == "while down"
            bob.send("say ops b alone")
            assert bob.recv(timeout=10) == "b alone"
            assert presence(a, "ops") == {"local": 2, "total": 2}  # local-only while down

            own_redis.start()
            # Both reconnect by themselves and subscribe again; nobody joins again.
            wait_for(lambda: presence(a, "ops")["total"] == 3, "a to count b's member again")
            wait_for(lambda: presence(b, "ops")["total"] == 3, "b to count a's members again")
            bob.send("say ops after")
            assert [ws.recv(timeout=10) for ws in (ada, amy, bob)] == ["after"] * 3
            ada.send("say ops and back")
            # Bob never saw "while down" and Ada/Amy never saw "b alone": the next is this.
            assert [ws.recv(timeout=10) for ws in (ada, amy, bob)] == ["and back"] * 3
    finally:
        _, log_a = a.stop()
        _, log_b = b.stop()
    for log in (log_a, log_b):
        assert "Redis channel backend disconnected" in log
        assert "Redis channel backend reconnected: subscribed again to 1 rooms" in log
        assert "other processes' copy dropped" in log


# --- under an ASGI server ------------------------------------------------------------------------


def test_rooms_under_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANNELS_REDIS_URL", raising=False)
    server = start_server("tests.apps.channels:app", kind="uvicorn")
    try:
        with contextlib.ExitStack() as stack:
            ada = join(server, "red", stack)
            bob = join(server, "red", stack)
            cy = join(server, "blue", stack)
            ada.send("say red over asgi")
            assert ada.recv(timeout=10) == "over asgi"
            assert bob.recv(timeout=10) == "over asgi"
            ada.send("say blue marker")
            assert cy.recv(timeout=10) == "marker"
            with connect(f"ws://127.0.0.1:{server.port}/ws/red", open_timeout=10) as dan:
                assert dan.recv(timeout=10).startswith("joined red")
                wait_for(lambda: presence(server, "red")["local"] == 3, "three in red")
            wait_for(lambda: presence(server, "red")["local"] == 2, "Dan gone")
    finally:
        server.stop()
