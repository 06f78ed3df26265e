"""`/healthz` and `/readyz`, declared with one call, answered the way Kubernetes probes expect.

```python
from covet.health import health_checks

health_checks(app, {"database": db, "redis": redis_client}, timeout=1.0)
```

Liveness (`/healthz`) only says the worker's loop answers: it checks nothing outside the
process, because a database outage must not get every pod restarted. Readiness (`/readyz`)
runs every check at once, each bounded by `timeout`, and answers 200 when all pass, 503
(with which failed and why) when any does, so the load balancer stops sending traffic here
until they pass again; it also answers 503 once the server is stopping (SIGTERM), so
traffic moves elsewhere during `--shutdown-delay`. A check is a `covet.db.Database`, a `covet.redis.RedisClient`, a
`redis.asyncio.Redis`, anything with an async `ping()`, or a callable (async or not)
returning a true value. See docs/observability.md."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Mapping
from typing import Any

from covet.responses import JSONResponse

logger = logging.getLogger("covet.health")

__all__ = ["HealthChecks", "health_checks"]


def health_checks(
    app: Any,
    checks: Mapping[str, Any] | None = None,
    *,
    timeout: float = 1.0,
    liveness_path: str = "/healthz",
    readiness_path: str = "/readyz",
) -> HealthChecks:
    """Adds the liveness and readiness routes to `app` (left out of the OpenAPI schema)."""
    health = HealthChecks(dict(checks or {}), timeout=timeout, runtime=getattr(app, "runtime", None))
    app.add_api_route(liveness_path, health.live, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route(readiness_path, health.ready, methods=["GET", "HEAD"], include_in_schema=False)
    return health


class HealthChecks:
    """The readiness checks and their bound."""

    def __init__(self, checks: dict[str, Any], *, timeout: float, runtime: Any = None) -> None:
        self.checks = checks
        self.timeout = timeout
        self.runtime = runtime  # its `draining` is set on SIGTERM (covet.pipeline.Runtime)
        self._failing: set[str] = set()

    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    async def ready(self) -> JSONResponse:
        if self.runtime is not None and self.runtime.draining:
            # Stopping: the load balancer must stop sending here, whatever the checks say.
            return JSONResponse({"status": "draining", "checks": {}}, status_code=503)
        names = list(self.checks)
        outcomes = await asyncio.gather(*(self._run(name) for name in names))
        results = dict(zip(names, outcomes, strict=True))
        ok = all(r["status"] == "ok" for r in results.values())
        self._log_changes(results)
        body = {"status": "ok" if ok else "unavailable", "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    async def _run(self, name: str) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            passed = await asyncio.wait_for(_probe(self.checks[name]), self.timeout)
            error = None if passed else "check failed"
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except Exception as exc:  # a check that raises is a failed check, never a 500
            error = f"{type(exc).__name__}: {exc}"[:200]
        result: dict[str, Any] = {"status": "ok" if error is None else "failing"}
        result["duration_ms"] = round((time.perf_counter() - start) * 1000, 1)
        if error is not None:
            result["error"] = error
        return result

    def _log_changes(self, results: dict[str, dict[str, Any]]) -> None:
        """One line when a check starts failing and one when it passes again, not one per probe."""
        for name, result in results.items():
            if result["status"] != "ok" and name not in self._failing:
                self._failing.add(name)
                logger.warning("Readiness check %r failing: %s", name, result.get("error"))
            elif result["status"] == "ok" and name in self._failing:
                self._failing.discard(name)
                logger.info("Readiness check %r passes again", name)


async def _probe(check: Any) -> bool:
    """Runs one check; true when it passed."""
    try:
        from covet.redis import RedisClient
    except ImportError:  # redis-py not installed: no RedisClient can exist either
        RedisClient = None  # type: ignore[assignment,misc]  # noqa: N806

    if RedisClient is not None and isinstance(check, RedisClient):
        return bool(await check.run(lambda r: r.ping()))
    ping = getattr(check, "ping", None)
    if ping is not None and not inspect.isfunction(check):
        outcome = ping()
    elif callable(check):
        outcome = check()
    else:
        raise TypeError(f"not a health check: {check!r}")
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return bool(outcome)
