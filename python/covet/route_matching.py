"""Starlette's route-matching names (`Match`, `BaseRoute`, `NoMatchFound`), for code that
imports or subclasses them.

covet matches paths in its Rust router, not by asking each route object in turn: a `BaseRoute`
subclass appended to `app.routes` is asked (`matches`, then `handle` as an ASGI app) only for a
path no compiled route matches, before the low-priority routes and frontends.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["BaseRoute", "Match", "NoMatchFound"]


class Match(Enum):
    NONE = 0
    PARTIAL = 1  # the path matches, the method does not
    FULL = 2


class NoMatchFound(Exception):
    """No route of that name takes those path parameters (`url_path_for`)."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(path_params)
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class BaseRoute:
    """The interface Starlette's routes share; see the module docstring."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        raise NotImplementedError

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        raise NotImplementedError

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise NotImplementedError
