"""The engine's figures as Prometheus metric families, summed over the worker processes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from covet._engine import EngineMetrics

BUCKETS = [f"{b:g}" for b in EngineMetrics.buckets()] + ["+Inf"]


class Totals:
    """Sums of several workers' snapshots and gauges."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], dict[str, Any]] = {}
        self.refusals: dict[str, int] = {}
        self.gauges = [0, 0, 0]
        self.workers = 0

    def add(self, snapshot: dict[str, Any], gauges: Iterable[int] | None) -> None:
        """Adds one worker's snapshot; its gauges only when it is alive (None otherwise)."""
        for route, method, by_class, buckets, total, req_bytes, resp_bytes in snapshot["requests"]:
            entry = self.requests.setdefault(
                (route, method),
                {"by_class": {}, "buckets": [0] * len(buckets), "sum": 0.0, "req": 0, "resp": 0},
            )
            for cls, n in by_class.items():
                entry["by_class"][cls] = entry["by_class"].get(cls, 0) + n
            entry["buckets"] = [a + b for a, b in zip(entry["buckets"], buckets, strict=True)]
            entry["sum"] += total
            entry["req"] += req_bytes
            entry["resp"] += resp_bytes
        for reason, n in snapshot["refusals"].items():
            self.refusals[reason] = self.refusals.get(reason, 0) + n
        if gauges is not None:
            self.gauges = [a + b for a, b in zip(self.gauges, gauges, strict=True)]
            self.workers += 1


def families(totals: Totals) -> Iterator[Metric]:
    """The metric families of `covet_*` (see docs/observability.md for each)."""
    requests = CounterMetricFamily(
        "covet_http_requests",
        "HTTP requests answered, by route template, method and status class",
        labels=["route", "method", "status"],
    )
    duration = HistogramMetricFamily(
        "covet_http_request_duration_seconds",
        "Time from the request head parsed to the response written, by route template and method",
        labels=["route", "method"],
    )
    req_size = CounterMetricFamily(
        "covet_http_request_size_bytes", "Request body bytes received", labels=["route", "method"]
    )
    resp_size = CounterMetricFamily(
        "covet_http_response_size_bytes", "Response bytes written, heads included", labels=["route", "method"]
    )
    for (route, method), entry in sorted(totals.requests.items()):
        for cls, n in sorted(entry["by_class"].items()):
            if n:
                requests.add_metric([route, method, cls], n)
        duration.add_metric([route, method], list(zip(BUCKETS, entry["buckets"], strict=True)), entry["sum"])
        req_size.add_metric([route, method], entry["req"])
        resp_size.add_metric([route, method], entry["resp"])
    refused = CounterMetricFamily(
        "covet_http_refused", "Requests the engine refused before a handler, by reason", labels=["reason"]
    )
    for reason, n in sorted(totals.refusals.items()):
        refused.add_metric([reason], n)
    yield from (requests, duration, req_size, resp_size, refused)
    names = (
        ("covet_connections_open", "Open HTTP connections"),
        ("covet_http_requests_in_flight", "Requests being served now"),
        ("covet_websockets_open", "Open WebSocket connections"),
    )
    for (name, doc), value in zip(names, totals.gauges, strict=True):
        yield GaugeMetricFamily(name, doc, value=value)
    yield GaugeMetricFamily("covet_workers", "Worker processes serving", value=totals.workers)
