"""A registry's frontends as Starlette-style routes (FastAPI's `router._frontend_routes`).

covet serves frontends from the app's compiled table (see covet.frontend, and
covet.route_inclusion for low-priority routes); this group is the view code written for
FastAPI inspects or calls: each frontend as a route whose `app` is its `StaticFiles`, matching
by path prefix (longest first), and an ASGI `handle` that serves the chosen frontend through
the app, dependencies included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from covet.exceptions import HTTPException
from covet.frontend import Frontend
from covet.route_matching import BaseRoute, Match, NoMatchFound

__all__ = ["FrontendRoute", "FrontendRoutes"]


class FrontendRoute(BaseRoute):
    """One frontend: matches the paths under its prefix; never named (no `url_path_for`)."""

    def __init__(self, frontend: Frontend) -> None:
        self.frontend = frontend
        self.path = frontend.path
        self.app = frontend.files

    def matches_with_prefix(self, scope: dict[str, Any], prefix: str) -> tuple[Match, dict[str, Any]]:
        path = scope.get("path", "")
        if scope.get("type") != "http" or not (path == prefix or path.startswith(prefix + "/") or not prefix):
            return Match.NONE, {}
        inner = self.frontend.inner_path(path[len(prefix) :] or "/")
        if inner is None:
            return Match.NONE, {}
        return Match.FULL, {"fastapi": {"frontend_path": inner}}

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        return self.matches_with_prefix(scope, "")

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        raise NoMatchFound(name, path_params)


class FrontendRoutes(BaseRoute):
    """The frontends declared on one app or router, the longest matching prefix first."""

    def __init__(self, owner: Any, frontends: Sequence[Frontend]) -> None:
        self.owner = owner
        self.routes = [FrontendRoute(f) for f in sorted(frontends, key=lambda f: -len(f.path))]

    def matches_with_prefix(self, scope: dict[str, Any], prefix: str) -> tuple[Match, dict[str, Any]]:
        for route in self.routes:
            match, child = route.matches_with_prefix(scope, prefix)
            if match is not Match.NONE:
                return match, child
        return Match.NONE, {}

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        return self.matches_with_prefix(scope, "")

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serves an ASGI request from the matching frontend (404 when none matches); the app
        is the scope's, else this group's owner when that is an app."""
        if self.matches(scope)[0] is Match.NONE:
            raise HTTPException(404)
        from covet.asgi import read_http, respond_http

        app = scope.get("app") if hasattr(scope.get("app"), "compile") else self.owner
        if not hasattr(app, "compile"):
            raise RuntimeError("A router's frontends are served by the app that includes the router")
        read = await read_http(scope, receive)
        if read is None:
            return
        raw, complete = read
        frontends = [route.frontend for route in self.routes]
        pipeline = app.compile()
        await respond_http(
            pipeline, scope, raw, complete, receive, send, lambda r: pipeline.serve_frontends(frontends, r)
        )
