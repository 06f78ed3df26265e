"""Tracing and structured logs through a real server: spans reach a real OTLP/HTTP receiver as
protobuf, one trace holds the request's span and its children (PostgreSQL, Redis, the cache,
an outgoing httpx call and the span of the server that call reached), `traceparent` is
continued in and handed back out, and the JSON log lines carry the request and trace ids."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PG_SERVER_URL, Server, wait_for
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

SERVER, CLIENT = 2, 3


@pytest.fixture
def traced(serve: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, OtlpReceiver]]:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # milliseconds between batches
        monkeypatch.setenv("DATABASE_URL", PG_SERVER_URL.replace("postgresql://", "postgresql+asyncpg://"))
        yield serve("tests.apps.traced_app:app", "--log-format", "json"), receiver


def spans_of(receiver: OtlpReceiver, trace_id: str, count: int) -> list[ReceivedSpan]:
    wait_for(lambda: len([s for s in receiver.snapshot() if s.trace_id == trace_id]) >= count, f"{count} spans")
    return [s for s in receiver.snapshot() if s.trace_id == trace_id]


def log_lines(server: Server) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]


def test_one_trace_holds_the_request_and_every_backend_it_touched(traced: tuple[Server, OtlpReceiver]) -> None:
    server, receiver = traced
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    with server.client() as client:
        response = client.get("/items/41", headers={"traceparent": f"00-{trace_id}-{caller_span}-01"})
    assert response.status_code == 200
    assert response.json()["value"] == 42
    version, out_trace, out_span, flags = response.headers["traceparent"].split("-")
    assert (version, out_trace, flags) == ("00", trace_id, "01")

    spans = spans_of(receiver, trace_id, 7)
    root = next(s for s in spans if s.kind == SERVER and s.parent_span_id == caller_span)
    assert root.span_id == out_span  # the response names the request's own span
    assert root.name == "GET /items/{item_id}"
    assert root.service == "traced-test"
    assert root.attributes["http.route"] == "/items/{item_id}"
    assert root.attributes["http.response.status_code"] == 200
    assert root.attributes["http.request.method"] == "GET"
    assert root.attributes["url.path"] == "/items/41"
    children = [s for s in spans if s.parent_span_id == root.span_id]
    assert all(root.start_ns <= s.start_ns and s.end_ns <= root.end_ns for s in children)

    sql = [s for s in children if s.scope == "covet.db"]
    assert [s.attributes["db.system.name"] for s in sql] == ["postgresql"]
    assert sql[0].name == "SELECT postgresql" and sql[0].kind == CLIENT
    assert "SELECT" in sql[0].attributes["db.query.text"]
    redis = [s for s in children if "redis" in s.scope]
    assert [s.name for s in redis] == ["SET"]
    assert {s.name for s in children if s.scope == "covet.cache"} == {"cache get", "cache set"}
    outgoing = next(s for s in children if "httpx" in s.scope)
    assert outgoing.kind == CLIENT
    # The call reached this same server: its span continues the trace under the httpx span.
    ping = next(s for s in spans if s.kind == SERVER and s.parent_span_id == outgoing.span_id)
    assert ping.attributes["http.route"] == "/ping"

    lines = log_lines(server)
    access = next(line for line in lines if line["logger"] == "covet.access" and line.get("path") == "/items/41")
    assert access["route"] == "/items/{item_id}"
    assert access["status"] == 200 and access["method"] == "GET"
    assert access["trace_id"] == trace_id
    assert access["request_id"] == response.headers["x-request-id"]
    assert access["duration_ms"] > 0 and access["client"].startswith("127.0.0.1:")
    own = next(line for line in lines if line["logger"] == "traced")
    assert own["message"] == "looking up item 41"
    assert (own["request_id"], own["trace_id"]) == (access["request_id"], trace_id)
    # The outgoing call did not pass the request id on: /ping made one of its own.
    assert response.json()["pong"] not in ("", access["request_id"])


def test_lean_path_statements_are_spans_of_the_request(traced: tuple[Server, OtlpReceiver]) -> None:
    server, receiver = traced
    trace_id = secrets.token_hex(16)
    with server.client() as client:
        response = client.get("/lean/21", headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    assert response.json() == {"twice": 42}
    spans = spans_of(receiver, trace_id, 2)
    root = next(s for s in spans if s.kind == SERVER)
    sql = [s for s in spans if s.scope == "covet.db"]
    assert [s.parent_span_id for s in sql] == [root.span_id]
    assert sql[0].name == "SELECT postgresql" and sql[0].kind == CLIENT
    assert sql[0].attributes["db.query.text"].startswith("SELECT CAST($1 AS integer) * 2")
    assert sql[0].attributes["db.namespace"]
    assert root.start_ns <= sql[0].start_ns < sql[0].end_ns  # ended when asyncpg reports it, just after


def test_a_request_without_traceparent_starts_a_trace_and_a_500_is_an_error(
    traced: tuple[Server, OtlpReceiver],
) -> None:
    server, receiver = traced
    with server.client() as client:
        failed = client.get("/boom", headers={"x-request-id": "req-boom-1"})
        bad = client.get("/missing", headers={"traceparent": "00-not-a-trace-01", "x-request-id": "a\tb"})
    assert failed.status_code == 500
    assert failed.headers["x-request-id"] == "req-boom-1"
    trace_id = failed.headers["traceparent"].split("-")[1]
    (span,) = spans_of(receiver, trace_id, 1)
    assert span.parent_span_id == ""
    assert span.status_code == 2  # error
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["http.route"] == "/boom"

    # A malformed traceparent starts a new trace; an id with a control character is replaced.
    assert bad.status_code == 404
    assert len(bad.headers["x-request-id"]) == 32
    (missing,) = spans_of(receiver, bad.headers["traceparent"].split("-")[1], 1)
    assert missing.parent_span_id == "" and missing.status_code == 0

    error = next(line for line in log_lines(server) if line["logger"] == "covet.error")
    assert error["request_id"] == "req-boom-1" and error["trace_id"] == trace_id
    assert "RuntimeError: a bug" in error["exception"]
    assert receiver.content_types == {"application/x-protobuf"}


def test_tracing_off_is_not_loaded() -> None:
    """An app that never calls `tracing` imports no OpenTelemetry and keeps the inline path."""
    import subprocess
    import sys

    code = (
        "import sys; from tests.apps.metrics_app import app; app.compile(); "
        "print(any(m.startswith('opentelemetry') for m in sys.modules), app.compile().chain is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=os.getcwd())
    assert out.stdout.split() == ["False", "True"]
