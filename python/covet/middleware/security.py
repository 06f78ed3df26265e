"""`SecurityHeadersMiddleware`: the usual security headers on every response, added by covet's
Rust engine (a few bytes written per response, no Python).

Each option is a header value, or None/False to leave the header out. HSTS is only sent on
https responses (a browser ignores it over http); behind a TLS-terminating proxy set
`trust_forwarded_proto=True` so `X-Forwarded-Proto: https` counts.
"""

from __future__ import annotations

from typing import Any

from covet.middleware.engine import EngineMiddleware

__all__ = ["SecurityHeadersMiddleware"]


class SecurityHeadersMiddleware(EngineMiddleware):
    engine_stage = "security_headers"

    def __init__(
        self,
        app: Any = None,
        *,
        hsts_max_age: int | None = 31536000,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        content_security_policy: str | None = None,
        x_content_type_options: bool = True,
        x_frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        permissions_policy: str | None = None,
        cross_origin_opener_policy: str | None = "same-origin",
        trust_forwarded_proto: bool = False,
    ) -> None:
        super().__init__(
            app,
            {
                "hsts_max_age": hsts_max_age,
                "hsts_include_subdomains": bool(hsts_include_subdomains),
                "hsts_preload": bool(hsts_preload),
                "content_security_policy": content_security_policy,
                "x_content_type_options": bool(x_content_type_options),
                "x_frame_options": x_frame_options,
                "referrer_policy": referrer_policy,
                "permissions_policy": permissions_policy,
                "cross_origin_opener_policy": cross_origin_opener_policy,
                "trust_forwarded_proto": bool(trust_forwarded_proto),
            },
        )
