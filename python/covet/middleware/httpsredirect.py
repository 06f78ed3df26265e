"""`HTTPSRedirectMiddleware`, as in Starlette, run by covet's Rust engine: a request that did
not come over https is redirected to the same URL on https before routing.

covet's own server speaks plain HTTP (TLS ends at a proxy in front of it), so there the scheme
is https only when `trust_forwarded_proto=True` and the proxy says `X-Forwarded-Proto: https`.
Set that only behind a proxy that overwrites the header, or any client could skip the redirect.
"""

from __future__ import annotations

from typing import Any

from covet.middleware.engine import EngineMiddleware

__all__ = ["HTTPSRedirectMiddleware"]


class HTTPSRedirectMiddleware(EngineMiddleware):
    engine_stage = "https_redirect"

    def __init__(self, app: Any = None, *, status_code: int = 307, trust_forwarded_proto: bool = False) -> None:
        super().__init__(app, {"status_code": int(status_code), "trust_forwarded_proto": bool(trust_forwarded_proto)})
