"""`instrument(app)`: turns the engine's counters on and serves `/metrics`.

The engine counts each request on its own path (see `covet_engine::metrics`); this module
only reads its snapshots, at scrape time, and under `--workers N` publishes this worker's
figures to the shared directory once a second (see `covet.metrics.shared`), so the one
worker that answers a scrape reports the whole server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from covet._engine import EngineMetrics
from covet.metrics import backends, engine, process, shared
from covet.requests import Request
from covet.responses import Response

logger = logging.getLogger("covet.metrics")

__all__ = ["Instrumentation", "instrument"]


def instrument(app: Any, path: str = "/metrics", *, include_in_schema: bool = False) -> Instrumentation:
    """Counts every request of `app` in the engine and serves them, with the app's own
    prometheus-client metrics and the workers' CPU, memory and open files, at `path`."""
    return Instrumentation(app, path, include_in_schema=include_in_schema)


class Instrumentation:
    """What `instrument` set up: the engine's counters of this process, and the scrape
    endpoint. `collect()` yields every metric family one scrape reports."""

    def __init__(self, app: Any, path: str, *, include_in_schema: bool = False) -> None:
        self.app = app
        self.path = path
        self.engine: EngineMetrics | None = None
        self._templates: list[str] = []
        self._server: Any = None
        self._publisher: asyncio.Task[None] | None = None
        self._watched: list[tuple[str, str, Any]] = []
        app.server_hooks.append(self._install)
        app.on_startup_handlers.append(self._start)
        app.on_shutdown_handlers.append(self._stop)
        app.add_api_route(path, self.scrape, methods=["GET"], include_in_schema=include_in_schema)

    def watch(self, watched: Any, name: str = "default") -> None:
        """Adds a `covet.cache.Cache` (hits, misses... per level) or a `covet.db.Database` (its
        pool: in use, idle, waiting, timeouts) to the scrape, under the label `name`."""
        self._watched.append((backends.kind_of(watched), name, watched))

    # --- the engine's side -------------------------------------------------------------------

    def _install(self, server: Any) -> None:
        """Called with each engine server built for the app: counting starts there. The
        counters are kept across servers of one process while the routes are the same."""
        templates = [str(getattr(route, "path", "")) for route in self.app.served_routes]
        if self.engine is None or templates != self._templates:
            self.engine = EngineMetrics(templates)
            self._templates = templates
        self.engine.install(server)
        self._server = server

    def _gauges(self) -> tuple[int, int, int]:
        if self.engine is None or self._server is None:
            return (0, 0, 0)
        return self.engine.gauges(self._server)

    def _snapshot(self) -> dict[str, Any]:
        if self.engine is None:
            return {"requests": [], "refusals": {}}
        return self.engine.snapshot()

    async def _start(self) -> None:
        directory = shared.shared_dir()
        if directory is not None:
            self._publisher = asyncio.get_running_loop().create_task(self._publish_every(directory))

    async def _stop(self) -> None:
        if self._publisher is None:
            return
        self._publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._publisher
        self._publisher = None
        directory = shared.shared_dir()
        if directory is not None:
            self._publish(directory)  # the last requests of this worker stay in the sums

    async def _publish_every(self, directory: Any) -> None:
        while True:
            self._publish(directory)
            await asyncio.sleep(shared.PUBLISH_INTERVAL)

    def _publish(self, directory: Any) -> None:
        try:
            snapshot = {**self._snapshot(), "backends": backends.figures(self._watched)}
            shared.publish(directory, snapshot, self._gauges())
        except OSError:
            logger.exception("Could not publish this worker's metrics to %s", directory)

    # --- the scrape --------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        """Every family of one scrape: the engine's and the process figures summed over the
        workers, and the app's own metrics (all processes' under `--workers`)."""
        totals = engine.Totals()
        totals.add(self._snapshot(), self._gauges())
        watched = backends.figures(self._watched)
        directory = shared.shared_dir()
        if directory is None:
            yield from engine.families(totals)
            yield from backends.families(watched)
            yield from REGISTRY.collect()  # this process's, with its process_* figures
            return
        pids = [os.getpid()]
        for other in shared.read_others(directory):
            totals.add(other["snapshot"], other["gauges"] if other["alive"] else None)
            backends.merge(watched, other["snapshot"].get("backends", {}), alive=other["alive"])
            if other["alive"]:
                pids.append(int(other["pid"]))
        yield from engine.families(totals)
        yield from backends.families(watched)
        yield from process.families(pids)
        yield from MultiProcessCollector(None, str(directory)).collect()

    async def scrape(self, request: Request) -> Response:
        """The Prometheus text format, or OpenMetrics when the scraper's Accept asks for it."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), headers={"content-type": content_type})
