"""Prometheus metrics: the engine counts every request in Rust (route template, method,
status class, latency, sizes, refusals); your own code adds `Counter`, `Gauge`, `Histogram`
and `Summary`, which are prometheus-client's own classes (the API people already know, and
its multiprocess mode for `--workers N`); `instrument(app)` serves `/metrics` for the whole
server in the Prometheus text format, or OpenMetrics when the scraper asks for it.

prometheus-client is imported on first use (`pip install covet[metrics]`): the supervisor
imports `covet.metrics.shared` without it. See docs/observability.md."""

from __future__ import annotations

from typing import Any

__all__ = ["Counter", "Gauge", "Histogram", "Info", "Summary", "Instrumentation", "instrument"]

_FROM_PROMETHEUS = {"Counter", "Gauge", "Histogram", "Info", "Summary"}


def __getattr__(name: str) -> Any:
    if name in _FROM_PROMETHEUS:
        import prometheus_client

        return getattr(prometheus_client, name)
    if name in {"Instrumentation", "instrument"}:
        from covet.metrics import exporter

        return getattr(exporter, name)
    raise AttributeError(f"module 'covet.metrics' has no attribute {name!r}")
