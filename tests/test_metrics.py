"""Engine metrics and `/metrics`: counted in Rust by route template, method and status class,
the app's own prometheus-client metrics beside them, one scrape for `--workers 2`, and a real
Prometheus server scraping it."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from covet import Covet, Depends
from covet.jwt import HMACKey, JWTAuth
from covet.metrics import instrument
from covet.ratelimit import RateLimitMiddleware
from covet.testclient import TestClient
from tests.apps.metrics_app import app
from tests.conftest import ROOT, Server, free_port, wait_for, wait_for_port

APP = "tests.apps.metrics_app:app"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples(text).items() if n == name and set(labels.items()) <= ls)


def test_requests_are_counted_by_route_template_method_and_status_class() -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        for i in range(3):
            assert client.get(f"/items/{i}").status_code == 200
        assert client.get("/items/1000").status_code == 404
        assert client.get("/items/abc").status_code == 422
        assert client.post("/echo", json={"a": "b"}).status_code == 200
        assert client.get("/boom").status_code == 500
        assert client.get("/nowhere/at/all").status_code == 404
        assert client.get("/legacy/some/page").text == "legacy"
        text = client.get("/metrics").text
    requests = "covet_http_requests_total"
    assert value(text, requests, route="/items/{item_id}", method="GET", status="2xx") == 3
    assert value(text, requests, route="/items/{item_id}", method="GET", status="4xx") == 2
    assert value(text, requests, route="/echo", method="POST", status="2xx") == 1
    assert value(text, requests, route="/boom", method="GET", status="5xx") == 1
    assert value(text, requests, route="<unmatched>", method="GET", status="4xx") == 1
    assert value(text, requests, route="/legacy", method="GET", status="2xx") == 1
    # The raw paths never become labels.
    assert "/items/1" not in text and "/nowhere" not in text
    duration = "covet_http_request_duration_seconds_count"
    assert value(text, duration, route="/items/{item_id}", method="GET") == 5
    assert value(text, "covet_http_request_duration_seconds_bucket", route="/boom", le="+Inf") == 1
    assert value(text, "covet_http_request_size_bytes_total", route="/echo") == len(b'{"a":"b"}')
    assert value(text, "covet_http_response_size_bytes_total", route="/echo") > len(b'{"a":"b"}')
    assert value(text, "app_item_lookups_total", found="yes") == 3
    assert value(text, "app_item_lookups_total", found="no") == 1
    assert value(text, "covet_http_requests_in_flight") == 1  # the scrape itself


def test_openmetrics_is_served_when_asked_for() -> None:
    with TestClient(app) as client:
        client.get("/items/1")
        plain = client.get("/metrics")
        om = client.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert om.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert om.text.endswith("# EOF\n")
    assert "covet_http_requests_total" in om.text


def test_refusals_by_the_parser_are_counted(serve) -> None:
    server: Server = serve(APP, "--max-body-size", "100")
    with server.client() as client:
        assert client.post("/echo", content=b"x" * 500, headers={"content-type": "application/json"}).status_code == 413
    with server.client() as client:
        text = client.get("/metrics").text
    assert value(text, "covet_http_refused_total", reason="body_too_large") == 1


def test_one_scrape_sees_every_worker(serve) -> None:
    server: Server = serve(APP, "--workers", "2")
    sent = 40
    for i in range(sent):  # a new connection each: the kernel spreads them over both workers
        with server.client() as client:
            assert client.get(f"/items/{i}").status_code == 200

    def counted() -> bool:
        with server.client() as client:
            text = client.get("/metrics").text
        return (
            value(text, "covet_http_requests_total", route="/items/{item_id}") == sent
            and value(text, "app_item_lookups_total", found="yes") == sent
            and value(text, "covet_workers") == 2
        )

    wait_for(counted, "both workers' requests in one scrape")
    with server.client() as client:
        text = client.get("/metrics").text
    assert value(text, "process_resident_memory_bytes") > 0
    assert value(text, "process_open_fds") > 0
    assert server.stop()[0] == 0


@pytest.fixture
def prometheus() -> Iterator[callable]:
    """Starts a real Prometheus (Debian's package; scripts/services.sh installs it) scraping
    the given port every second, on loopback, with its own storage; yields its query URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run scripts/services.sh (apt-get install prometheus)")
    started: list[subprocess.Popen[bytes]] = []
    workdir = Path(tempfile.mkdtemp(prefix="covet-prometheus-"))

    def start(target_port: int) -> str:
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: covet\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n"
        )
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(proc)
        wait_for_port(port, proc, timeout=60)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)
    shutil.rmtree(workdir, ignore_errors=True)


def test_prometheus_records_exactly_the_requests_sent(serve, prometheus) -> None:
    server: Server = serve(APP, "--workers", "2")
    url = prometheus(server.port)
    sent_ok, sent_missing = 25, 7
    for i in range(sent_ok + sent_missing):
        with server.client() as client:
            item = i if i < sent_ok else 1000 + i
            client.get(f"/items/{item}")

    def query(expr: str) -> float | None:
        answer = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
        assert answer["status"] == "success", answer
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    route = 'route="/items/{item_id}"'
    ok = f'sum(covet_http_requests_total{{job="covet",{route},status="2xx"}})'
    missing = f'sum(covet_http_requests_total{{job="covet",{route},status="4xx"}})'
    wait_for(lambda: query(ok) == sent_ok and query(missing) == sent_missing, "Prometheus to record them", 60)
    assert query('up{job="covet"}') == 1
    assert query('covet_workers{job="covet"}') == 2
    # Every query of the Grafana dashboard the docs ship is valid PromQL over these series.
    dashboard = json.loads((ROOT / "deploy/grafana/covet-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$job", "covet").replace("$__rate_interval", "1m")
            query(expr)
    assert server.stop()[0] == 0


def test_rate_limit_and_jwt_refusals_are_counted() -> None:
    auth = JWTAuth(HMACKey(b"metrics-test-secret-0123456789abcdef", kid="k1"))
    guarded = Covet()
    guarded.add_middleware(RateLimitMiddleware, rate="2/minute", exempt=["/me", "/metrics"])

    @guarded.get("/limited")
    async def limited() -> dict[str, str]:
        return {"ok": "yes"}

    @guarded.get("/me")
    async def me(claims: dict[str, Any] = Depends(auth)) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    instrument(guarded)
    with TestClient(guarded) as client:
        statuses = [client.get("/limited").status_code for _ in range(5)]
        assert statuses == [200, 200, 429, 429, 429]
        assert client.get("/me").status_code in (401, 403)
        assert client.get("/me", headers={"authorization": "Bearer not.a.token"}).status_code == 401
        text = client.get("/metrics").text
    assert value(text, "covet_http_refused_total", reason="rate_limited") == 3
    assert value(text, "covet_http_refused_total", reason="jwt") == 2
    requests = "covet_http_requests_total"
    assert value(text, requests, route="/me", status="4xx") == 2
    # The engine middleware answers before routing: those are counted without a route.
    assert value(text, requests, route="<unmatched>", status="4xx") == 3


def test_cache_hits_and_misses_per_level_are_summed_over_workers(serve) -> None:
    server = serve("tests.apps.backend_metrics_app:app", "--workers", "2")
    with server.client() as client:
        hits = sum(client.get(f"/cached/k{i % 3}").json()["hit"] for i in range(30))

        def scraped() -> str | None:
            text = client.get("/metrics").text
            found = value(text, "covet_cache_hits_total", cache="items", level="memory")
            return text if found == hits else None

        wait_for(scraped, "every worker's cache figures in one scrape")
        text = scraped()
    server.stop()  # SIGTERM: the supervisor stops its workers (SIGKILL would orphan them)
    assert text is not None
    # Each worker misses a key once, then hits it: 30 reads in all, 3 to 6 of them misses.
    assert value(text, "covet_cache_misses_total", cache="items", level="memory") == 30 - hits
    assert 3 <= 30 - hits <= 6
    assert value(text, "covet_cache_sets_total", cache="items", level="memory") == 30 - hits
    assert value(text, "covet_cache_entries", cache="items", level="memory") == 30 - hits


def test_pool_connections_in_use_and_waiting_are_exported(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import PG_SERVER_URL

    monkeypatch.setenv("DATABASE_URL", PG_SERVER_URL.replace("postgresql://", "postgresql+asyncpg://"))
    server = serve("tests.apps.backend_metrics_app:app")
    with server.client() as client, httpx.Client(base_url=server.url, timeout=10) as other:
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            held = pool.submit(other.get, "/hold")
            wait_for(lambda: value(client.get("/metrics").text, "covet_db_pool_in_use", database="main") == 1, "in use")
            waiting = pool.submit(httpx.get, f"{server.url}/query", timeout=10)
            wait_for(
                lambda: value(client.get("/metrics").text, "covet_db_pool_waiting", database="main") == 1, "a wait"
            )
            text = client.get("/metrics").text
            assert value(text, "covet_db_pool_size", database="main") == 1
            assert client.post("/release").status_code == 200
            assert held.result().json() == {"held": True}
            assert waiting.result().json() == {"one": 1}
        text = client.get("/metrics").text
    assert value(text, "covet_db_pool_in_use", database="main") == 0
    assert value(text, "covet_db_pool_waiting", database="main") == 0
    assert value(text, "covet_db_pool_idle", database="main") == 1
    assert value(text, "covet_db_pool_timeouts_total", database="main") == 0
