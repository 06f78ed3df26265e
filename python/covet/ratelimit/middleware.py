"""`RateLimitMiddleware`: one rule in front of every route, with exempt paths.

When the engine can do the whole job (the in-process memory backend and a key it can compute:
`global_key`, `client_ip(...)`, `api_key(...)` with such a fallback, and a scope other than
"route"), the rule is compiled into the Rust engine's policy, as `CORSMiddleware` is: a refused
request is answered with its 429 without running any Python, and allowed responses get their
`RateLimit-*` headers from Rust. Otherwise (Redis, a key function of your own, per-route
buckets, an injected clock, or `engine=False`) it runs here, as an HTTP middleware."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from covet.datastructures import MutableHeaders
from covet.exceptions import HTTPException
from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.params import DependsParam
from covet.ratelimit.backends import Backend, MemoryBackend
from covet.ratelimit.keys import KeyFunc, client_ip, engine_key_spec
from covet.ratelimit.limiter import RateLimit, rate_limit_headers
from covet.ratelimit.rates import Rate
from covet.requests import Request
from covet.responses import JSONResponse, Response

__all__ = ["RateLimitMiddleware"]


class RateLimitMiddleware(BaseHTTPMiddleware):
    """`app.add_middleware(RateLimitMiddleware, rate="1000/minute")`: every request counts,
    by default per client address in one bucket for the whole app (`scope="global"`; use
    `scope="route"` for a bucket per route). A path in `exempt` (exactly, or below it:
    "/static" exempts "/static/app.css") is not counted. A refused request never reaches the
    handler; allowed responses get the `RateLimit-*` headers."""

    def __init__(
        self,
        app: Any = None,
        rate: str | Rate = "1000/minute",
        *,
        burst: int | None = None,
        key: KeyFunc | None = None,
        trusted_proxies: Iterable[str] = (),
        scope: str = "global",
        backend: Backend | None = None,
        fail_open: bool = True,
        headers: bool = True,
        exempt: Iterable[str] = (),
        engine: bool = True,
    ) -> None:
        super().__init__(app)
        self.engine = engine
        if isinstance(key, DependsParam):
            raise TypeError("RateLimitMiddleware runs before dependencies: give `key` a function of the request")
        self.rule = RateLimit(
            rate,
            burst=burst,
            key=key if key is not None else client_ip(trusted_proxies),
            scope=scope,
            backend=backend,
            fail_open=fail_open,
            headers=headers,
        )
        self.exempt = tuple(p.rstrip("/") or "/" for p in exempt)

    @classmethod
    def engine_config_for(cls, app: Any, *args: Any, **kwargs: Any) -> tuple[str, dict[str, Any]] | None:
        """The engine stage this declaration compiles to, or None to run in Python."""
        return cls(app, *args, **kwargs).engine_config()

    def engine_config(self) -> tuple[str, dict[str, Any]] | None:
        """`("rate_limit", options)` when the engine can run this rule (see the module docstring)."""
        rule = self.rule
        backend = rule.backend
        in_memory = backend is None or (type(backend) is MemoryBackend and backend.clock is time.monotonic)
        key = engine_key_spec(rule.key)
        if not self.engine or not in_memory or key is None or rule.scope == "route" or rule.cost != 1:
            return None
        rate = rule.rate
        options = {
            "limit": rate.limit,
            "period": rate.period,
            "burst": rate.burst,
            "max_keys": backend.max_keys if backend is not None else 100_000,
            "key": key,
            "exempt": list(self.exempt),
            "headers": rule.headers,
            "detail": f"Rate limit exceeded: {rate.describe()}",
            "policy": rate.policy,
        }
        return ("rate_limit", options)

    def is_exempt(self, path: str) -> bool:
        return any(path == p or (p != "/" and path.startswith(p + "/")) for p in self.exempt)

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        if self.is_exempt(request.path):
            return await call_next(request)
        try:
            decision = await self.rule.check(request)
        except HTTPException as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        response = await call_next(request)
        if decision is not None and self.rule.headers:
            rate_limit_headers(MutableHeaders(response.raw_headers), self.rule.rate, decision)
        return response
