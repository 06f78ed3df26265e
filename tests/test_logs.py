"""covet.logs: JSON lines or text by the stream, request ids taken or made and handed back,
the app's own log lines carrying them, and one access line per request whichever writes it."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import select
import signal
from collections.abc import Iterator

import httpx
import pytest

from covet import Covet
from covet.logs import TextFormatter, configure_logging, current_request_id, request_logging
from covet.testclient import TestClient
from tests.conftest import Server, served_three_ways


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


# --- request ids and access lines on all three servers ---------------------------------------

HEX32 = re.compile(r"[0-9a-f]{32}")
client = served_three_ways("tests.apps.request_ids_app:app")


def test_a_sane_id_is_echoed_and_seen_by_the_app(client: httpx.Client) -> None:
    response = client.get("/items/1", headers={"X-Request-ID": "edge-7f3a"})
    assert response.headers["x-request-id"] == response.json()["request_id"] == "edge-7f3a"


def test_ids_are_made_as_32_hex_digits_each_its_own(client: httpx.Client) -> None:
    ids = []
    for _ in range(3):
        response = client.get("/items/2")
        ids.append(response.headers["x-request-id"])
        assert HEX32.fullmatch(ids[-1]) and response.json()["request_id"] == ids[-1]
    assert len(set(ids)) == 3


@pytest.mark.parametrize("given", ["x" * 129, "caf\xe9".encode("latin-1"), "tab\there"])
def test_an_insane_id_is_replaced(client: httpx.Client, given: str | bytes) -> None:
    response = client.get("/items/3", headers={"X-Request-ID": given})
    made = response.headers["x-request-id"]
    assert HEX32.fullmatch(made) and response.json()["request_id"] == made


def test_an_engine_404_and_a_cache_hit_carry_the_id(client: httpx.Client) -> None:
    missing = client.get("/nowhere", headers={"X-Request-ID": "lost-1"})
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "lost-1"
    assert HEX32.fullmatch(client.get("/nowhere").headers["x-request-id"])
    first = client.get("/cached", headers={"X-Request-ID": "fill-1"})
    hit = client.get("/cached", headers={"X-Request-ID": "hit-1"})
    assert hit.json() == first.json()  # answered from the cache: the handler did not run again
    assert first.headers["x-request-id"] == "fill-1" and hit.headers["x-request-id"] == "hit-1"


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in text.splitlines() if x.startswith("{")]


@pytest.mark.parametrize("kind", ["covet", "uvicorn"])
def test_the_json_access_line_has_its_fields_and_survives_sigterm(serve, kind: str) -> None:  # noqa: ANN001
    """The engine's own line (covet) and the Python one (uvicorn) say the same; a burst of
    requests right before SIGTERM leaves no line behind in the engine's buffer."""
    server: Server = serve("tests.apps.request_ids_app:app", kind=kind)
    with server.client() as http:
        assert http.get("/items/7", headers={"X-Request-ID": "line-7"}).status_code == 200
        assert http.get("/nowhere", headers={"X-Request-ID": "line-404"}).status_code == 404
        burst = [http.get("/items/8").headers["x-request-id"] for _ in range(200)]
    status, output = server.stop()
    assert status in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has stopped
    records = _json_lines(output)
    access = [r for r in records if r["logger"] == "covet.access"]
    assert [r["request_id"] for r in access] == ["line-7", "line-404", *burst]
    line = access[0]
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "method",
        "route",
        "path",
        "status",
        "duration_ms",
        "client",
        "request_id",
    }
    assert (line["method"], line["route"], line["path"], line["status"], line["level"]) == (
        "GET",
        "/items/{item_id}",
        "/items/7",
        200,
        "info",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["time"]))
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 10_000
    assert str(line["client"]).startswith("127.0.0.1:")
    assert re.fullmatch(r'127\.0\.0\.1:\d+ "GET /items/7" 200 \d+\.\d ms', str(line["message"]))
    assert (access[1]["route"], access[1]["status"]) == ("<unmatched>", 404)
    shop = [r for r in records if r["logger"] == "shop"]
    assert shop[0]["request_id"] == "line-7" and shop[0]["message"] == "item 7"


def test_the_engine_writes_the_lines_to_the_log_file_and_flushes_them_at_shutdown(tmp_path) -> None:  # noqa: ANN001
    """A file behind covet.logs' formatter: the engine formats and writes the lines itself
    (no record reaches `logging`), all of them by the time the app has shut down."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    path = tmp_path / "access.log"
    seen: list[logging.LogRecord] = []
    probe = logging.Filter()
    probe.filter = lambda record: bool(seen.append(record)) or True  # type: ignore[method-assign]
    try:
        with path.open("w") as sink:
            configure_logging("INFO", json_lines=True, stream=sink)
            logging.getLogger("covet.access").addFilter(probe)  # sees records that go through logging
            with TestClient(make_app()) as client:
                ids = [client.get(f"/items/{i}").headers["x-request-id"] for i in range(50)]
    finally:
        logging.getLogger("covet.access").removeFilter(probe)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    access = [r for r in _json_lines(path.read_text()) if r["logger"] == "covet.access"]
    assert [r["request_id"] for r in access] == ids
    assert access[0]["client"] == "testclient:50000" and access[0]["route"] == "/items/{item_id}"
    assert seen == []


def test_a_handler_of_the_users_own_gets_every_line_through_logging(logged: io.StringIO, tmp_path) -> None:  # noqa: ANN001
    """A handler the engine cannot stand in for: the lines go through `logging` to it."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    access = logging.getLogger("covet.access")
    collect = Collect()
    access.addHandler(collect)
    try:
        with TestClient(make_app()) as client:
            ids = [client.get("/items/1").headers["x-request-id"] for _ in range(3)]
    finally:
        access.removeHandler(collect)
    assert [r.request_id for r in records] == ids  # type: ignore[attr-defined]
    assert [r["request_id"] for r in lines(logged) if r["logger"] == "covet.access"] == ids
