"""The observability example through the real engine: requests show up at /metrics by route
template, the app's own metrics and the cache's beside them, the probes answer, requests carry
ids, and, with a collector named, a real server's traces reach it."""

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from covet.testclient import TestClient
from examples.observability.app import app
from tests.conftest import start_server, wait_for
from tests.otlp_receiver import OtlpReceiver


def sample(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


def test_metrics_and_probes() -> None:
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"]["status"] == "ok"
        assert client.get("/products/1").status_code == 200
        assert client.get("/products/7").status_code == 404
        assert client.post("/orders?items=3").status_code == 201
        assert client.post("/orders?items=12&payment=cash").status_code == 201
        text = client.get("/metrics").text
    route = "/products/{product_id}"
    assert sample(text, "covet_http_requests_total", route=route, status="2xx") == 1
    assert sample(text, "covet_http_requests_total", route=route, status="4xx") == 1
    assert sample(text, "covet_http_requests_total", route="/orders", method="POST", status="2xx") == 2
    assert sample(text, "shop_orders_placed_total", payment="cash") == 1
    assert sample(text, "shop_basket_items_bucket", le="5.0") == 1
    assert sample(text, "shop_basket_items_count") == 2


def test_logs_ids_and_cache_figures_in_process() -> None:
    with TestClient(app) as client:
        first = client.get("/products/2", headers={"X-Request-ID": "shop-42"})
        second = client.get("/products/2")
        text = client.get("/metrics").text
    assert first.json() == second.json() == {"id": 2, "name": "coffee", "stock": 20}
    assert first.headers["x-request-id"] == "shop-42"
    assert len(second.headers["x-request-id"]) == 32
    assert "traceparent" not in first.headers  # no collector named: tracing is off
    assert sample(text, "covet_cache_hits_total", cache="shop", level="memory") >= 1
    assert sample(text, "covet_db_pool_in_use", database="main") == 0


def test_traces_and_json_logs_from_a_real_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as `covet run ... --log-format json` with a collector named (the test's own OTLP
    receiver): the request's span and its cache and SQL children arrive there."""
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # milliseconds between batches
        server = start_server("examples.observability.app:app", "--log-format", "json")
        try:
            with server.client() as client:
                response = client.get("/products/1")
                missing = client.get("/products/9")
            assert response.status_code == 200 and missing.status_code == 404
            trace_id = response.headers["traceparent"].split("-")[1]
            wait_for(lambda: sum(s.trace_id == trace_id for s in receiver.snapshot()) >= 4, "the request's spans")
            spans = [s for s in receiver.snapshot() if s.trace_id == trace_id]
        finally:
            server.stop()
    root = next(s for s in spans if s.parent_span_id == "")
    assert root.name == "GET /products/{product_id}" and root.service == "observed-shop"
    assert {s.name for s in spans if s.parent_span_id == root.span_id} >= {"cache get", "cache set"}
    assert any(s.scope == "covet.db" for s in spans)
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    unknown = next(line for line in lines if line["logger"] == "shop")
    assert unknown["request_id"] == missing.headers["x-request-id"]
    access = [line for line in lines if line["logger"] == "covet.access"]
    assert [(line["route"], line["status"]) for line in access] == [
        ("/products/{product_id}", 200),
        ("/products/{product_id}", 404),
    ]
