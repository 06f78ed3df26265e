"""Whole responses cached per route: `@app.get(path, cache=CachePolicy(cache, ttl=60))`.

On covet's own server, a fresh entry in the cache's memory level is written by the engine
before any Python runs (also its 304 for a matching `If-None-Match`), at admission, after the
engine middleware and the route's guard. Everything else comes here, on every server: a
lookup through all the levels (a Redis hit fills the memory level, so the next request is the
engine's), else the route runs and its response is stored. Keys, stored bytes and answers
come from the same engine object (`_engine.ResponseCache`) on both paths, so a response is
the same whichever path answered it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from covet._engine import ResponseCache
from covet.responses import Response

from .envelope import Envelope
from .levels import MemoryLevel

if TYPE_CHECKING:
    from covet.requests import Request

    from .core import Cache

__all__ = ["CachePolicy"]

Handler = Callable[["Request"], Awaitable[Response]]


class CachePolicy:
    """How a route's responses are cached in `cache`.

    `ttl`: seconds an entry is fresh (the cache's default when left out; it is also the
    `max-age` the response gets unless it sets its own `Cache-Control`). `vary`: request
    headers whose values pick different entries (`["accept-language"]`); they are named in
    the response's `Vary`. `tags`: templates formatted with the path parameters
    (`"product:{product_id}"`), for `cache.invalidate(tags=...)`. `errors`: also store
    statuses other than 200 below 500 (404s, say). Responses with `Set-Cookie`, or a
    `Cache-Control` of `no-store` or `private`, are never stored.
    """

    def __init__(
        self,
        cache: Cache,
        *,
        ttl: float | None = None,
        vary: Sequence[str] = (),
        tags: Sequence[str] = (),
        errors: bool = False,
    ) -> None:
        ttl = cache.ttl if ttl is None else ttl
        if ttl is None or ttl <= 0:
            raise ValueError("a CachePolicy needs a ttl > 0 (seconds a response stays fresh)")
        self.cache = cache
        self.ttl = float(ttl)
        self.vary = [v.lower() for v in vary]
        self.tags = list(tags)
        memory = next((lv for lv in cache.levels if isinstance(lv, MemoryLevel)), None)
        #: The engine's side: covet's server answers fresh entries of the memory level with it.
        self.engine = ResponseCache(
            memory.store if memory is not None else None, f"{cache.namespace}:", self.vary, errors
        )

    def key(self, method: str, path: str, query: bytes = b"", headers: dict[str, str] | None = None) -> str:
        """The key of a request (within the namespace), for `cache.delete(...)`."""
        pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        return self.engine.key(method, path, query, pairs)

    def wrap(self, handle: Handler) -> Handler:
        """`handle` (a route's Python path) answering from and filling the cache."""

        async def cached(request: Request) -> Response:
            return await self.respond(request, handle)

        return cached

    async def respond(self, request: Request, handle: Handler) -> Response:
        method = request.method
        if method not in ("GET", "HEAD"):
            return await handle(request)
        headers = request.headers
        control = headers.get("cache-control")
        raw = request._raw
        asked = [(name.encode(), headers[name].encode("latin-1")) for name in self.vary if name in headers]
        full = self.cache.full_key(self.engine.key(method, raw.path, raw.query_string, asked))
        match = headers.get("if-none-match")
        if not ResponseCache.bypasses(control.encode("latin-1") if control else None):
            (envelope,) = await self.cache._lookup([full])
            if envelope is not None and envelope.fresh_until > time.time():
                hit = self._answer(envelope.payload, match)
                if hit is not None:
                    return hit
        response = await handle(request)
        if control is not None and "no-store" in control.lower():
            return response
        data = await self._fill(full, request, response)
        # Answered as a hit would be (ETag, Cache-Control, Age: 0), whichever path served it.
        stored = self._answer(data, match) if data is not None else None
        return stored or response

    def _answer(self, data: bytes, if_none_match: str | None) -> Response | None:
        answer = self.engine.answer(data, if_none_match.encode("latin-1") if if_none_match else None)
        if answer is None:
            return None
        status, raw_headers, body = answer
        response = Response(body, status_code=status)
        response.raw_headers = raw_headers
        return response

    async def _fill(self, full: str, request: Request, response: Response) -> bytes | None:
        """Stores `response` when it may be: the stored bytes, or None."""
        body = getattr(response, "body", None)
        if type(body) is not bytes or response.background is not None:
            return None  # streamed, a file, or work left to run after it: not stored
        data = self.engine.entry(response.status_code, list(response.raw_headers), body, math.ceil(self.ttl))
        if data is None:
            return None
        params = request.path_params
        tags = tuple(self.cache.full_key(t.format(**params)) for t in self.tags)
        await self.cache._store(full, Envelope.make(data, self.ttl, 0.0, 0.0, tags))
        return data
