"""Generator handlers stream as FastAPI does: JSON Lines by default, server-sent events with
`response_class=EventSourceResponse`, raw chunks for other classes; items checked against the
return annotation's item type. Through TestClient, covet's server and uvicorn."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterable
from typing import Any

import httpx
import pytest

from covet import Covet
from covet.exceptions import FastAPIError, ResponseValidationError
from covet.responses import Response, StreamingResponse
from covet.testclient import TestClient
from tests.apps import streams
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.streams:app")


def lines(response: httpx.Response) -> list[Any]:
    return [json.loads(line) for line in response.text.splitlines()]


def test_json_lines_validated_by_the_item_type(client: httpx.Client) -> None:
    response = client.get("/jsonl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    # response_model_exclude_none applies to each item; a dict is validated as an Item.
    assert lines(response) == [{"name": "a"}, {"name": "b", "note": "dict, validated as an Item"}]


def test_json_lines_from_a_sync_generator_without_item_type(client: httpx.Client) -> None:
    response = client.get("/jsonl-sync")
    assert response.headers["content-type"] == "application/jsonl"
    assert lines(response) == [{"n": 1}, [2, "two"]]


def test_invalid_item_mid_stream(client: httpx.Client) -> None:
    if isinstance(client, TestClient):
        with pytest.raises(ResponseValidationError):
            client.get("/jsonl-invalid")
    else:
        # The head is out: the stream is cut short, so the client knows the body is incomplete.
        with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", "/jsonl-invalid") as response:
            for _ in response.iter_lines():
                pass
    assert client.get("/after-invalid").json() == {"still": "serving"}


def test_status_code_of_the_route_and_of_a_dependency(client: httpx.Client) -> None:
    assert client.post("/created").status_code == 201
    # As FastAPI: a status set on the `response: Response` parameter wins.
    assert client.post("/accepted").status_code == 202


def test_server_sent_events_from_a_generator_handler(client: httpx.Client) -> None:
    response = client.get("/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == (
        'data: {"name":"a","note":null}\n\n'
        'event: note\ndata: "text is JSON too"\nid: 7\n\n'
        "event: html\ndata: <b>as it is</b>\n\n"
    )
    assert client.get("/events-sync").text == 'data: {"n":1}\n\n'


def test_raw_chunks_for_another_response_class(client: httpx.Client) -> None:
    response = client.get("/raw")
    assert response.status_code == 200
    assert response.text == "chunk one, chunk two"


def test_openapi_item_schemas() -> None:
    paths = streams.app.openapi()["paths"]
    assert paths["/jsonl"]["get"]["responses"]["200"]["content"] == {
        "application/jsonl": {"itemSchema": {"$ref": "#/components/schemas/Item"}}
    }
    event = paths["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]
    assert event["required"] == ["data"]
    assert event["properties"]["data"] == {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": {"$ref": "#/components/schemas/Item"},
    }
    assert "content" not in paths["/raw"]["get"]["responses"]["200"]


def test_keep_alive_interval_is_read_per_response(monkeypatch: pytest.MonkeyPatch) -> None:
    import covet.routing

    app = Covet()

    @app.get("/slow", response_class=streams.EventSourceResponse)
    async def slow() -> AsyncIterable[int]:
        yield 1
        await asyncio.sleep(0.2)  # a slow producer: ten ping intervals without an event
        yield 2

    monkeypatch.setattr(covet.routing, "_PING_INTERVAL", 0.02)
    with TestClient(app) as tc:
        text = tc.get("/slow").text
    assert text.startswith("data: 1\n\n: ping\n\n")
    assert text.endswith("data: 2\n\n")


def test_infinite_generator_that_never_awaits_can_be_cancelled() -> None:
    """A client that stays but whose request is cancelled (a timeout around the ASGI call)
    must stop a generator that never awaits: each item gives the event loop a turn."""
    app = Covet()

    @app.get("/forever")
    async def forever() -> AsyncIterable[int]:
        n = 0
        while True:
            yield n
            n += 1

    @app.get("/forever-raw", response_class=StreamingResponse)
    async def forever_raw() -> AsyncIterable[str]:
        while True:
            yield "x"

    async def call(path: str) -> int:
        sent: list[bytes] = []
        requests = [{"type": "http.request", "body": b""}]

        async def receive() -> dict[str, Any]:
            if requests:
                return requests.pop()
            await asyncio.Event().wait()  # then never disconnects
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], "root_path": ""}
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(app(scope, receive, send), timeout=0.5)
        return len(sent)

    assert asyncio.run(call("/forever")) > 0
    assert asyncio.run(call("/forever-raw")) > 0


def test_invalid_response_models_are_refused_at_startup() -> None:
    class NotAModel:
        pass

    app = Covet()
    with pytest.raises(FastAPIError, match="response_model=None"):

        @app.get("/a")
        def a() -> Response | None:  # a Response in a union is no model
            return None

    with pytest.raises(FastAPIError):
        app.get("/b", response_model=list[NotAModel])(lambda: None)
    with pytest.raises(FastAPIError):
        app.get("/c", responses={500: {"model": NotAModel}})(lambda: None)


def test_testclient_not_raising_gets_the_body_as_far_as_it_came() -> None:
    # As Starlette's TestClient: told not to raise the app's error, a stream cut short by it
    # ends where it was cut (a real client sees the connection closed mid-body instead).
    with TestClient(streams.app, raise_server_exceptions=False) as tc:
        response = tc.get("/jsonl-invalid")
    assert response.status_code == 200
    assert lines(response) == [{"name": "fine", "note": None}]


def test_sync_decorator_around_an_async_handler_is_awaited() -> None:
    # A plain decorator (functools.wraps, no `async`) around an `async def` returns the
    # coroutine: it is awaited, as FastAPI does, rather than serialized.
    def plain_wrap(func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return wrapper

    app = Covet()

    @app.get("/wrapped")
    @plain_wrap
    async def wrapped() -> dict[str, bool]:
        await asyncio.sleep(0)
        return {"awaited": True}

    with TestClient(app) as tc:
        assert tc.get("/wrapped").json() == {"awaited": True}
