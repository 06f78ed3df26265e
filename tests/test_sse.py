"""Server-sent events (covet.sse): framing, keep-alive comments, Last-Event-ID, and the
generator stopped when the client leaves, through TestClient, covet's server and uvicorn."""

from __future__ import annotations

import signal
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from covet.sse import EventSourceResponse, ServerSentEvent, encode_event, format_sse_event
from covet.testclient import TestClient
from tests.apps import sse
from tests.conftest import served_three_ways

APP = "tests.apps.sse:app"
client = served_three_ways(APP)

EVENTS_BODY = (
    "data: hello\n\n"
    "event: multi\ndata: two\ndata: lines\ndata: and\ndata: three\nid: 7\nretry: 2500\n\n"
    ": just a comment\n\n"
    'data: {"a":1,"b":[true,null]}\n\n'
    'data: {"x":1,"y":2}\n\n'
    "data: 42\n\n"
)


def eventually(check: Any, what: str) -> Any:
    """Polls `check` until it returns something true (a bound on waiting, not on speed)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def read_until(lines: Iterator[str], line: str) -> list[str]:
    """Reads lines of a streamed response up to and including `line`, and no further. The
    caller keeps the iterator: httpx closes the connection when an unfinished one is dropped."""
    seen: list[str] = []
    for got in lines:
        seen.append(got)
        if got == line:
            return seen
    raise AssertionError(f"stream ended before {line!r}: {seen}")


# --- framing, without a server ------------------------------------------------------------------


def test_event_fields_and_line_breaks() -> None:
    # FastAPI's field order: comment, event, data, id, retry. `raw_data` is text as it is.
    event = ServerSentEvent(raw_data="a\r\nb\rc\nd", event="update", id=3, retry=1000, comment="x\ny")
    assert event.encode() == b": x\n: y\nevent: update\ndata: a\ndata: b\ndata: c\ndata: d\nid: 3\nretry: 1000\n\n"
    assert ServerSentEvent(raw_data="").encode() == b"data: \n\n"
    assert ServerSentEvent(retry=0).encode() == b"retry: 0\n\n"
    # Only CR and LF break lines in an event stream; other Unicode separators are data.
    assert ServerSentEvent(raw_data="a\u2028b\x0cc").encode() == "data: a\u2028b\x0cc\n\n".encode()


def test_fastapi_import_places() -> None:
    # `from fastapi.responses import EventSourceResponse` is FastAPI's spelling too.
    from covet import responses

    assert responses.EventSourceResponse is EventSourceResponse


def test_event_data_is_json_as_in_fastapi() -> None:
    # `data` is always JSON, text included (FastAPI's ServerSentEvent); `raw_data` is not.
    assert ServerSentEvent("hello").encode() == b'data: "hello"\n\n'
    assert ServerSentEvent(data={"key": "value"}).encode() == b'data: {"key": "value"}\n\n'
    assert ServerSentEvent(raw_data="<b>x</b>").encode() == b"data: <b>x</b>\n\n"
    with pytest.raises(ValueError, match="Cannot set both"):
        ServerSentEvent(data="a", raw_data="b")
    assert format_sse_event(data_str="Hello\n") == b"data: Hello\ndata: \n\n"
    assert format_sse_event(comment="hi\n") == b": hi\n: \n\n"


def test_values_are_sent_as_json_text_as_it_is() -> None:
    class Item(BaseModel):
        name: str

    assert encode_event({"k": "v\n"}) == b'data: {"k":"v\\n"}\n\n'
    assert encode_event(Item(name="x")) == b'data: {"name":"x"}\n\n'
    assert encode_event([1, 2.5, None]) == b"data: [1,2.5,null]\n\n"
    assert encode_event(True) == b"data: true\n\n"
    assert encode_event("plain") == b"data: plain\n\n"
    assert encode_event(b"bytes\nsplit") == b"data: bytes\ndata: split\n\n"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"event": "a\nb"}, ValueError),
        ({"event": "a\rb"}, ValueError),
        ({"id": "1\n2"}, ValueError),
        ({"id": "1\r"}, ValueError),
        ({"id": "1\x002"}, ValueError),
        ({"retry": -1}, ValueError),
        ({"retry": 1.5}, ValueError),
        ({"retry": "100"}, ValueError),
        ({"retry": True}, ValueError),
        ({"id": 1.0}, TypeError),
        ({"event": 5}, TypeError),
        ({"comment": 5}, TypeError),
    ],
)
def test_fields_that_would_break_the_stream_are_refused(fields: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match="ServerSentEvent"):
        ServerSentEvent("data", **fields)


def test_response_headers_and_ping_setting() -> None:
    response = EventSourceResponse(iter(()), headers={"Cache-Control": "no-store", "X-Extra": "1"})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers.getlist("cache-control") == ["no-store"]
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-extra"] == "1"
    assert response.ping == 15
    assert EventSourceResponse(iter(()), ping=2.5).ping == 2.5
    with pytest.raises(ValueError, match="ping"):
        EventSourceResponse(iter(()), ping=-1)


# --- through TestClient, covet's server and uvicorn ----------------------------------------------


def test_events_are_framed(client: httpx.Client) -> None:
    response = client.get("/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == EVENTS_BODY


def test_sync_iterator(client: httpx.Client) -> None:
    assert client.get("/sync").text == "data: a\n\ndata: b\n\nevent: end\ndata: c\n\n"


def test_keep_alive_comments_while_the_generator_waits(client: httpx.Client) -> None:
    body = client.get("/ping", params={"every": 0.05}).text
    assert body.startswith("data: first\n\n: ping\n\n")
    assert body.endswith(": ping\n\ndata: second\n\n")
    assert set(body.removeprefix("data: first\n\n").removesuffix("data: second\n\n").split("\n\n")) == {": ping", ""}


def test_last_event_id_reaches_the_handler(client: httpx.Client) -> None:
    fresh = client.get("/resume").text
    # Event data is JSON as FastAPI writes it (", " and ": " separators); data comes before id.
    assert fresh == "".join(f'data: {{"n": {n}, "header": null}}\nid: {n}\n\n' for n in (1, 2, 3))
    resumed = client.get("/resume", headers={"Last-Event-ID": "41"}).text
    assert resumed == "".join(f'data: {{"n": {n}, "header": "41"}}\nid: {n}\n\n' for n in (42, 43, 44))


@pytest.mark.parametrize("path", ["/forever", "/forever-sync"])
def test_generator_is_closed_when_the_client_leaves(client: httpx.Client, path: str) -> None:
    # The generator waits an hour between events and sends no pings: only the server noticing
    # the client's departure can run its `finally` within the test.
    key = uuid.uuid4().hex
    baseline = client.get("/tasks").json()["tasks"]
    with client.stream("GET", f"{path}/{key}") as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        lines = response.iter_lines()
        assert read_until(lines, "data: started") == ["data: started"]
        assert client.get(f"/closed/{key}").json() == {"started": True, "closed": False}
    eventually(lambda: client.get(f"/closed/{key}").json()["closed"], "the generator's finally ran")
    # And nothing the stream started is left running.
    eventually(lambda: client.get("/tasks").json()["tasks"] <= baseline, "the stream's tasks ended")


def test_head_sends_headers_without_starting_the_generator(client: httpx.Client) -> None:
    key = uuid.uuid4().hex
    response = client.head(f"/forever/{key}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.content == b""
    assert client.get(f"/closed/{key}").json() == {"started": False, "closed": False}


def test_generator_error_ends_the_stream_and_the_server_keeps_serving(client: httpx.Client) -> None:
    if isinstance(client, TestClient):
        with pytest.raises(RuntimeError, match="generator failed"):
            client.get("/boom")
    else:
        seen: list[str] = []
        with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", "/boom") as response:
            seen.extend(response.iter_lines())
        assert seen[0] == "data: before"
    assert client.get("/events").text == EVENTS_BODY


def test_invalid_event_from_the_generator_is_an_error(client: httpx.Client) -> None:
    if isinstance(client, TestClient):
        with pytest.raises(ValueError, match="must be a single line"):
            client.get("/bad-event")
    else:
        with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", "/bad-event") as response:
            for _ in response.iter_lines():
                pass
    assert client.get("/sync").status_code == 200


# --- sockets closed by hand, and what the server logs -------------------------------------------


def open_stream(port: int, path: str) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
    data = b""
    while b"data: started" not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return sock, data


@pytest.mark.parametrize("kind", ["covet", "uvicorn"])
def test_raw_socket_closed_mid_stream(serve: Any, kind: str) -> None:
    server = serve(APP, kind=kind)
    with server.client() as http:
        for how in ("close", "reset"):
            key = uuid.uuid4().hex
            sock, head = open_stream(server.port, f"/forever/{key}")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            if how == "reset":  # an RST instead of a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
            eventually(lambda key=key: http.get(f"/closed/{key}").json()["closed"], f"finally after {how}")
        assert http.get("/events").text == EVENTS_BODY


def test_response_called_as_an_asgi_app_stops_when_the_client_leaves(serve: Any) -> None:
    server = serve("tests.apps.sse:raw_asgi", kind="uvicorn")
    key = uuid.uuid4().hex
    sock, _ = open_stream(server.port, f"/forever/{key}")
    sock.close()
    with server.client() as http:
        eventually(lambda: http.get(f"/closed/{key}").json()["closed"], "the generator's finally ran")


@pytest.mark.parametrize("kind", ["covet", "uvicorn"])
def test_generator_error_is_logged(serve: Any, kind: str) -> None:
    server = serve(APP, kind=kind)
    with server.client() as http:
        with pytest.raises(httpx.RemoteProtocolError), http.stream("GET", "/boom") as response:
            for _ in response.iter_lines():
                pass
        assert http.get("/sync").status_code == 200
    _, log = server.stop()
    assert "RuntimeError: generator failed" in log
    assert "Error while sending the response to GET /boom" in log


def test_shutdown_ends_open_streams_cleanly(serve: Any) -> None:
    # A grace period far longer than stop()'s patience: the worker must not wait it out.
    server = serve(APP, "--graceful-timeout", "300")
    key = uuid.uuid4().hex
    sock, data = open_stream(server.port, f"/forever/{key}")
    server.proc.send_signal(signal.SIGTERM)
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    assert data.endswith(b"\r\n0\r\n\r\n")  # the chunked body was ended, not cut
    code, log = server.stop(timeout=15)
    assert code == 0, log
    assert f"stream {key} closed" in log


@pytest.mark.parametrize("path", ["/forever", "/forever-sync"])
def test_testclient_reads_a_stream_piece_by_piece(caplog: pytest.LogCaptureFixture, path: str) -> None:
    key = uuid.uuid4().hex
    with TestClient(sse.app) as tc:
        with tc.stream("GET", f"{path}/{key}") as response:
            assert next(response.iter_raw()) == b"data: started\n\n"
            assert key in sse.STARTED and key not in sse.CLOSED
        # Leaving the block is the client going away: the finally has run by now, and the
        # request stopped by itself (TestClient would have had to cancel it, and said so).
        assert key in sse.CLOSED
    assert "after its client left" not in caplog.text
