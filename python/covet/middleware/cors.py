"""`CORSMiddleware`, with Starlette's options and behaviour, run by covet's Rust engine.

A preflight request is answered by the engine without reaching Python; other responses get
`Vary: Origin` and, for a request with an allowed `Origin`, the Access-Control-* headers.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from covet.middleware.engine import EngineMiddleware

__all__ = ["CORSMiddleware"]


class CORSMiddleware(EngineMiddleware):
    engine_stage = "cors"

    def __init__(
        self,
        app: Any = None,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        super().__init__(
            app,
            {
                "allow_origins": _strings("allow_origins", allow_origins),
                "allow_methods": _strings("allow_methods", allow_methods),
                "allow_headers": _strings("allow_headers", allow_headers),
                "allow_credentials": bool(allow_credentials),
                "allow_origin_regex": allow_origin_regex,
                "allow_private_network": bool(allow_private_network),
                "expose_headers": _strings("expose_headers", expose_headers),
                "max_age": int(max_age),
            },
        )


def _strings(option: str, values: Collection[str]) -> list[str]:
    if isinstance(values, str):
        # A lone string would otherwise be read as a list of characters.
        raise TypeError(f"CORSMiddleware {option} takes a list of strings, not a string: {option}=[{values!r}]")
    return [str(v) for v in values]
