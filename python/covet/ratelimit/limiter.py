"""`RateLimit` (one rule, a dependency) and `Limiter` (shared settings, decorators).

A rule counts each request against a bucket named by its scope (the route, the whole service,
or a name of yours), its rate, and the client's key. Allowed responses carry the IETF draft
`RateLimit-*` headers; refused requests get 429 with `Retry-After` and a JSON body.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from covet import _engine
from covet.datastructures import MutableHeaders
from covet.exceptions import HTTPException, ServiceUnavailable
from covet.params import DependsParam
from covet.ratelimit.backends import Backend, BackendUnavailable, Decision, MemoryBackend
from covet.ratelimit.keys import KeyFunc, client_ip, user_identity
from covet.ratelimit.rates import Rate, parse_rate
from covet.requests import Request
from covet.responses import Response

__all__ = ["Limiter", "RateLimit", "RateLimitExceeded", "rate_limit_headers"]

logger = logging.getLogger("covet.ratelimit")
F = TypeVar("F", bound=Callable[..., Any])
_default_backend: MemoryBackend | None = None


def default_backend() -> MemoryBackend:
    """The process-wide memory backend used by rules given no backend."""
    global _default_backend
    if _default_backend is None:
        _default_backend = MemoryBackend()
    return _default_backend


class RateLimitExceeded(HTTPException):
    """429, with `Retry-After` and the `RateLimit-*` headers; `{"detail": ...}` as JSON."""

    def __init__(self, rate: Rate, decision: Decision) -> None:
        headers = MutableHeaders([])
        rate_limit_headers(headers, rate, decision)
        headers["retry-after"] = str(max(1, math.ceil(decision.retry_after)))
        super().__init__(429, f"Rate limit exceeded: {rate.describe()}", dict(headers.items()))
        self.rate = rate
        self.decision = decision


def rate_limit_headers(headers: MutableHeaders, rate: Rate, decision: Decision) -> None:
    """Sets `RateLimit-Limit/-Remaining/-Reset/-Policy`. When several rules apply to one
    response, the one with the fewest requests remaining is reported, as the draft asks."""
    current = headers.get("ratelimit-remaining")
    if current is not None and current.isdigit() and int(current) <= decision.remaining:
        return
    headers["ratelimit-limit"] = str(decision.limit)
    headers["ratelimit-remaining"] = str(decision.remaining)
    headers["ratelimit-reset"] = str(math.ceil(decision.reset_after))
    headers["ratelimit-policy"] = rate.policy


class RateLimit:
    """One rule: `Depends(RateLimit("100/minute"))`, or in `dependencies=[...]`.

    - `key`: a key function (`client_ip()`, the default; `api_key()`; `global_key`), or
      `Depends(dep)` to count per user: the dependency's result (its `id` when it has one)
      is the key, and a None result falls back to the client's address.
    - `scope`: "route" (a bucket per route, the default), "global" (one bucket shared by every
      route using this rule), or any name (rules with the same name and rate share buckets).
    - `fail_open`: when the backend is unreachable, let requests through with a warning in the
      log (True, the default) or answer 503 (False).
    """

    def __init__(
        self,
        rate: str | Rate,
        *,
        burst: int | None = None,
        key: KeyFunc | DependsParam | None = None,
        scope: str = "route",
        cost: int = 1,
        backend: Backend | None = None,
        fail_open: bool = True,
        headers: bool = True,
    ) -> None:
        self.rate = parse_rate(rate, burst)
        if cost < 0:
            raise ValueError("cost must be >= 0")
        self.cost = cost
        self.scope = scope
        self.backend = backend
        self.fail_open = fail_open
        self.headers = headers
        self._route_names: dict[int, str] = {}
        self._failing = False
        self.key: KeyFunc = key if key is not None and not isinstance(key, DependsParam) else client_ip()
        self._per_user = isinstance(key, DependsParam)
        # What the dependency system reads: the request and the response to add headers to,
        # plus, per user, the user dependency, whose result arrives as `identity`.
        params = list(inspect.signature(self.__call__).parameters.values())
        if self._per_user:
            params[-1] = params[-1].replace(default=key)
        else:
            params.pop()
        self.__signature__ = inspect.Signature(params)

    async def __call__(self, request: Request, response: Response, identity: Any = None) -> None:
        decision = await self.check(request, identity)
        if decision is not None and self.headers:
            rate_limit_headers(response.headers, self.rate, decision)

    async def check(self, request: Request, identity: Any = None) -> Decision | None:
        """Counts the request; raises `RateLimitExceeded` (429) or, failing closed, a 503.
        None when the request is not limited (no key, or the backend down and failing open)."""
        client = user_identity(identity) if self._per_user else None
        if client is None:
            client = self.key(request)
            if inspect.isawaitable(client):
                client = await client
        if client is None:
            return None
        backend = self.backend or default_backend()
        key = f"{self.bucket(request)}:{self.rate.key}:{client}"
        try:
            decision = await backend.hit(key, self.rate, self.cost)
        except BackendUnavailable as exc:
            return self._unavailable(exc)
        self._failing = False
        if not decision.allowed:
            raise RateLimitExceeded(self.rate, decision)
        return decision

    def bucket(self, request: Request) -> str:
        """The scope part of the storage key: the route's methods and path for "route"."""
        if self.scope != "route":
            return self.scope
        raw = request._raw
        index = raw.endpoint
        app = request.app
        if index is None and app is not None:
            outcome, index, _, _ = app.compile().router.lookup(raw.method, raw.path)
            if outcome != _engine.FOUND:
                index = None
        if index is None or app is None:
            return "path:" + raw.path
        name = self._route_names.get(index)
        if name is None:
            route = app.served_routes[index]
            methods = ",".join(sorted(getattr(route, "methods", ()) or ()))
            name = self._route_names[index] = f"route:{methods}:{route.path}"
        return name

    def _unavailable(self, exc: BackendUnavailable) -> None:
        if not self._failing:  # one line per outage (the first failure after a success)
            self._failing = True
            action = "letting requests through (fail_open=True)" if self.fail_open else "answering 503"
            # A backend that already warned about the outage (Redis) gets only a note of the choice.
            level = logging.INFO if exc.logged else logging.WARNING
            logger.log(level, "Rate limit backend unavailable, %s: %s", action, exc)
        if self.fail_open:
            return None
        raise ServiceUnavailable("Rate limiting is unavailable; try again shortly")

    def decorate(self, func: F) -> F:
        """`func` with this rule added as a dependency: put the decorator under the route's."""
        rule = self
        sig = inspect.signature(func)
        params = list(sig.parameters.values())
        extra = inspect.Parameter("_covet_rate_limit", inspect.Parameter.KEYWORD_ONLY, default=DependsParam(rule))
        at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
        params.insert(at, extra)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def wrapper(*args: Any, _covet_rate_limit: Any = None, **kwargs: Any) -> Any:
                return await func(*args, **kwargs)
        else:

            @functools.wraps(func)
            def wrapper(*args: Any, _covet_rate_limit: Any = None, **kwargs: Any) -> Any:
                return func(*args, **kwargs)

        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]


class Limiter:
    """Settings shared by several rules: one backend, one key function, one failure policy.

    `Depends(limiter)` applies the `default` rate; `@limiter.limit("5/second")` (under the
    route decorator) and `limiter.rule("5/second")` add rules of their own.
    """

    def __init__(
        self,
        default: str | Rate | None = None,
        *,
        burst: int | None = None,
        backend: Backend | None = None,
        key: KeyFunc | None = None,
        trusted_proxies: Iterable[str] = (),
        scope: str = "route",
        fail_open: bool = True,
        headers: bool = True,
    ) -> None:
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        self.key: KeyFunc = key if key is not None else client_ip(trusted_proxies)
        self.scope = scope
        self.fail_open = fail_open
        self.headers = headers
        self.default = None if default is None else self.rule(default, burst=burst)

    def rule(
        self,
        rate: str | Rate,
        *,
        burst: int | None = None,
        key: KeyFunc | DependsParam | None = None,
        scope: str | None = None,
        cost: int = 1,
    ) -> RateLimit:
        """A `RateLimit` with this limiter's backend, key, failure policy and headers."""
        rule = RateLimit(
            rate,
            burst=burst,
            key=key if key is not None else self.key,
            scope=scope or self.scope,
            cost=cost,
            backend=self.backend,
            fail_open=self.fail_open,
            headers=self.headers,
        )
        if isinstance(key, DependsParam):
            rule.key = self.key  # anonymous requests: counted as this limiter counts clients
        return rule

    def limit(
        self,
        rate: str | Rate,
        *,
        burst: int | None = None,
        key: KeyFunc | DependsParam | None = None,
        scope: str | None = None,
        cost: int = 1,
    ) -> Callable[[F], F]:
        """`@limiter.limit("5/second")`, placed under `@app.get(...)`."""
        return self.rule(rate, burst=burst, key=key, scope=scope, cost=cost).decorate

    async def __call__(self, request: Request, response: Response) -> None:
        if self.default is None:
            raise RuntimeError("Depends(limiter) needs a default rate: Limiter('100/minute', ...)")
        await self.default(request, response)
