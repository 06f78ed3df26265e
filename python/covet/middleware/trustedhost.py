"""`TrustedHostMiddleware`, with Starlette's options, run by covet's Rust engine: a request
whose `Host` is not allowed is refused with 400 before routing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from covet.middleware.engine import EngineMiddleware

__all__ = ["TrustedHostMiddleware"]


class TrustedHostMiddleware(EngineMiddleware):
    engine_stage = "trusted_host"

    def __init__(self, app: Any = None, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True) -> None:
        if isinstance(allowed_hosts, str):
            raise TypeError(f"allowed_hosts takes a list of names, not a string: allowed_hosts=[{allowed_hosts!r}]")
        hosts = ["*"] if allowed_hosts is None else [str(h) for h in allowed_hosts]
        super().__init__(app, {"allowed_hosts": hosts, "www_redirect": bool(www_redirect)})
