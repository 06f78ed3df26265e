"""`RateLimitMiddleware`: one rule in front of every route, with exempt paths."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from covet.datastructures import MutableHeaders
from covet.exceptions import HTTPException
from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.params import DependsParam
from covet.ratelimit.backends import Backend
from covet.ratelimit.keys import KeyFunc, client_ip
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
    ) -> None:
        super().__init__(app)
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
