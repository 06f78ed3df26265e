"""Caches' hits and misses per level and database pools' use, as Prometheus families.

Both already count for themselves (`Cache.figures()`, `Database.pool_stats()`): nothing is
added to a cache read or a checkout; the figures are read when a scrape comes, and under
`--workers` published with the engine's (covet.metrics.shared) and summed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# Cache level figures that only grow (the rest, entries and bytes, are gauges).
_CACHE_COUNTERS = ("hits", "misses", "fills", "sets", "deletes", "skipped", "evictions")
_CACHE_GAUGES = ("entries", "bytes")
# Pool figures that only grow; the others describe the pool now.
_POOL_COUNTERS = ("timeouts",)


def kind_of(watched: Any) -> str:
    if hasattr(watched, "figures") and hasattr(watched, "levels"):
        return "cache"
    if hasattr(watched, "pool_stats"):
        return "database"
    raise TypeError(f"covet.metrics cannot watch {watched!r}: not a covet.cache.Cache nor a covet.db.Database")


def figures(watched: list[tuple[str, str, Any]]) -> dict[str, dict[str, Any]]:
    """This process's figures: {"cache": {name: Cache.figures()}, "database": {name: pool_stats()}}."""
    out: dict[str, dict[str, Any]] = {"cache": {}, "database": {}}
    for kind, name, obj in watched:
        out[kind][name] = obj.figures() if kind == "cache" else obj.pool_stats()
    return out


def _add(into: dict[str, Any], other: dict[str, Any], keep: set[str] | None) -> None:
    """Sums `other` into `into` (nested dicts of numbers); with `keep`, only those keys."""
    for key, value in other.items():
        if isinstance(value, dict):
            _add(into.setdefault(key, {}), value, keep)
        elif keep is None or key in keep:
            into[key] = into.get(key, 0) + value


def merge(into: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]], *, alive: bool) -> None:
    """Adds another worker's figures: a dead worker's counters stay in the sums, its gauges not."""
    _add(into.setdefault("cache", {}), other.get("cache", {}), None if alive else set(_CACHE_COUNTERS) | {"computed"})
    _add(into.setdefault("database", {}), other.get("database", {}), None if alive else set(_POOL_COUNTERS))


def families(totals: dict[str, dict[str, Any]]) -> Iterator[Metric]:
    """`covet_cache_*` and `covet_db_pool_*` (see docs/observability.md)."""
    caches = totals.get("cache", {})
    if caches:
        counters = {
            name: CounterMetricFamily(
                f"covet_cache_{name}", f"Cache {name} by cache and level", labels=["cache", "level"]
            )
            for name in _CACHE_COUNTERS
        }
        gauges = {
            name: GaugeMetricFamily(
                f"covet_cache_{name}", f"Cache {name} held by cache and level", labels=["cache", "level"]
            )
            for name in _CACHE_GAUGES
        }
        computed = CounterMetricFamily("covet_cache_computed", "Values computed on a miss, by cache", labels=["cache"])
        for cache, levels in sorted(caches.items()):
            for level, counts in sorted(levels.items()):
                if level == "cache":
                    computed.add_metric([cache], counts.get("computed", 0))
                    continue
                for name, family in [*counters.items(), *gauges.items()]:
                    if name in counts:
                        family.add_metric([cache, level], counts[name])
        yield from counters.values()
        yield from gauges.values()
        yield computed
    databases = totals.get("database", {})
    if databases:
        in_use = GaugeMetricFamily("covet_db_pool_in_use", "Connections checked out of the pool", labels=["database"])
        idle = GaugeMetricFamily("covet_db_pool_idle", "Connections idle in the pool", labels=["database"])
        size = GaugeMetricFamily("covet_db_pool_size", "The pool's configured size", labels=["database"])
        waiting = GaugeMetricFamily("covet_db_pool_waiting", "Requests waiting for a connection", labels=["database"])
        timeouts = CounterMetricFamily(
            "covet_db_pool_timeouts", "Checkouts that waited past the pool timeout", labels=["database"]
        )
        for name, stats in sorted(databases.items()):
            in_use.add_metric([name], stats.get("checked_out", 0) + stats.get("driver_in_use", 0))
            idle.add_metric([name], stats.get("checked_in", 0) + stats.get("driver_idle", 0))
            size.add_metric([name], stats.get("size", 0))
            waiting.add_metric([name], stats.get("driver_waiting", 0))
            timeouts.add_metric([name], stats.get("timeouts", 0))
        yield from (in_use, idle, size, waiting, timeouts)
