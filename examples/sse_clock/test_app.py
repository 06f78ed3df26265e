"""The SSE clock, driven through the real engine by TestClient."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from covet.testclient import TestClient
from examples.sse_clock.app import app


def events(response: httpx.Response) -> Iterator[dict[str, str]]:
    """The events of an event stream, as dicts of their fields, as they arrive."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = fields[name] + "\n" + value if name in fields else value


def test_page_opens_an_event_source() -> None:
    with TestClient(app) as client:
        assert 'new EventSource("/clock")' in client.get("/").text


def test_ticks_then_the_generator_stops_when_the_client_leaves() -> None:
    with TestClient(app) as client:
        with client.stream("GET", "/clock", params={"every": 0.01}) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            stream = events(response)
            ticks = [next(stream) for _ in range(3)]
            assert client.get("/listeners").json() == {"listeners": 1}
        assert [t["id"] for t in ticks] == ["1", "2", "3"]
        assert all(t["event"] == "tick" for t in ticks)
        assert [json.loads(t["data"])["n"] for t in ticks] == [1, 2, 3]
        assert client.get("/listeners").json() == {"listeners": 0}


def test_reconnect_resumes_after_last_event_id() -> None:
    with TestClient(app) as client:
        with client.stream("GET", "/clock", params={"every": 0.01}, headers={"Last-Event-ID": "41"}) as response:
            tick = next(events(response))
        assert tick["id"] == "42"
        assert client.get("/clock", headers={"Last-Event-ID": "nope"}).status_code == 422
        assert client.get("/clock", params={"every": 0}).status_code == 422
