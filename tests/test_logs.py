"""covet.logs: JSON lines or text by the stream, request ids taken or made and handed back,
the app's own log lines carrying them, and one access line per request whichever writes it."""

from __future__ import annotations

import io
import json
import logging
import os
import select
from collections.abc import Iterator

import pytest

from covet import Covet
from covet.logs import TextFormatter, configure_logging, current_request_id, request_logging
from covet.testclient import TestClient
from tests.conftest import Server


def make_app(**options: object) -> Covet:
    app = Covet()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, object]:
        logging.getLogger("shop").warning("item %d", item_id)
        return {"id": item_id, "request_id": current_request_id()}

    request_logging(app, **options)  # type: ignore[arg-type]
    return app


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)  # not a terminal: JSON lines
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_ids_are_taken_when_sane_made_otherwise_and_on_every_line(logged: io.StringIO) -> None:
    with TestClient(make_app()) as client:
        given = client.get("/items/1", headers={"X-Request-ID": "edge-7f3a"})
        too_long = client.get("/items/2", headers={"X-Request-ID": "x" * 129})
        unprintable = client.get("/items/3", headers={"X-Request-ID": "caf\xe9".encode("latin-1")})
    assert given.headers["x-request-id"] == given.json()["request_id"] == "edge-7f3a"
    for response in (too_long, unprintable):
        made = response.headers["x-request-id"]
        assert len(made) == 32 and made == response.json()["request_id"]
    records = [r for r in lines(logged) if r["logger"] in ("shop", "covet.access")]
    assert [(r["logger"], r["request_id"]) for r in records] == [
        ("shop", "edge-7f3a"),
        ("covet.access", "edge-7f3a"),
        ("shop", too_long.headers["x-request-id"]),
        ("covet.access", too_long.headers["x-request-id"]),
        ("shop", unprintable.headers["x-request-id"]),
        ("covet.access", unprintable.headers["x-request-id"]),
    ]
    access = records[1]
    assert access["route"] == "/items/{item_id}" and access["path"] == "/items/1"
    assert access["level"] == "info" and str(access["time"]).endswith("Z")
    assert "trace_id" not in access  # tracing off: no empty field either


def test_an_untrusted_header_is_ignored_and_another_header_name_used(logged: io.StringIO) -> None:
    with TestClient(make_app(header="X-Correlation-ID", trust_header=False, access_log=False)) as client:
        response = client.get("/items/1", headers={"X-Correlation-ID": "from-client"})
    assert response.headers["x-correlation-id"] != "from-client"
    assert "x-request-id" not in response.headers
    assert [r["logger"] for r in lines(logged)].count("covet.access") == 0


def _read_until(fd: int, wanted: list[str], timeout: float = 10.0) -> str:
    """What a pty gives until every `wanted` piece has come (a pty hands over a write at a time,
    so one read may hold only the first line), or nothing more comes within `timeout`."""
    text = ""
    while not all(piece in text for piece in wanted):
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            break
        text += os.read(fd, 65536).decode()
    return text


def test_a_terminal_gets_text_with_the_request_id() -> None:
    primary, secondary = os.openpty()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        with os.fdopen(secondary, "w") as tty:
            handler = configure_logging("INFO", stream=tty)
            assert isinstance(handler.formatter, TextFormatter)
            with TestClient(make_app()) as client:
                client.get("/items/5", headers={"X-Request-ID": "tty-1"})
            tty.flush()
            text = _read_until(primary, ["covet.access:", "item 5"])
    finally:
        os.close(primary)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert 'covet.access: testclient:50000 "GET /items/5" 200' in text
    assert "WARNING shop: item 5 [tty-1]" in text


def test_one_access_line_per_request_on_a_real_server(serve) -> None:  # noqa: ANN001
    """`covet run` logs access by default: with request_logging the engine's line is left out
    (one line, with the route); without it the engine's line has its fields in JSON too."""
    logged_app: Server = serve("examples.observability.app:app", "--log-format", "json")
    plain_app: Server = serve("tests.apps.metrics_app:app", "--log-format", "json")
    with logged_app.client() as client:
        assert [client.get(p).status_code for p in ("/products/1", "/products/9")] == [200, 404]
    with plain_app.client() as client:
        assert [client.get(p).status_code for p in ("/items/1", "/items/1001")] == [200, 404]
    logged = [json.loads(x) for x in logged_app.stop()[1].splitlines() if x.startswith("{")]
    plain = [json.loads(x) for x in plain_app.stop()[1].splitlines() if x.startswith("{")]
    assert [(r["route"], r["status"]) for r in logged if r["logger"] == "covet.access"] == [
        ("/products/{product_id}", 200),
        ("/products/{product_id}", 404),
    ]
    assert [(r["method"], r["path"], r["status"]) for r in plain if r["logger"] == "covet.access"] == [
        ("GET", "/items/1", 200),
        ("GET", "/items/1001", 404),
    ]
