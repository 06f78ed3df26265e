"""The observability example through the real engine: requests show up at /metrics by route
template, the app's own metrics beside them, and the probes answer."""

from prometheus_client.parser import text_string_to_metric_families

from covet.testclient import TestClient
from examples.observability.app import app


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
