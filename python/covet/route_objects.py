"""Starlette's route-object API on covet's routes: `route.matches(scope)` and
`route.handle(scope, receive, send)`, and a router as an ASGI app.

covet's server never asks route objects: its Rust router matches the compiled paths, and calls
a route's `serve(request)`. These are for code that calls them itself (a router used as an ASGI
app, `Mount(routes=[...])`, a test calling `route.handle`), and for an `APIRoute` subclass that
overrides `matches` or `handle` (FastAPI's hooks to choose requests by header, to wrap the
ASGI call...): such a route is not compiled but asked in turn, as any `BaseRoute` of the app's
own, for a path no compiled route takes (see `CustomRoute`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from covet.asgi_scope import raw_request, route_path
from covet.datastructures import URLPath
from covet.exceptions import HTTPException
from covet.requests import Request
from covet.responses import PlainTextResponse
from covet.route_matching import BaseRoute, Match, NoMatchFound

__all__ = [
    "CustomInclusion",
    "CustomRoute",
    "RouteList",
    "RouteObjectAPI",
    "RouterObjectAPI",
    "dispatch",
    "overrides_route_api",
    "overrides_router_api",
    "path_regex",
]

_CONTEXT = "effective_route_context"
_INCLUDED = "included_router"
_PARAM = re.compile(r"\{([A-Za-z_]\w*)(?::[^}]*)?\}")


def path_regex(path: str) -> re.Pattern[str]:
    """A route path's pattern: each `{name}` one segment (captured by its name)."""
    pattern, end = "", 0
    for found in _PARAM.finditer(path):
        pattern += re.escape(path[end : found.start()]) + f"(?P<{found.group(1)}>[^/]+)"
        end = found.end()
    return re.compile(pattern + re.escape(path[end:]))


def _effective(route: Any, scope: dict[str, Any]) -> Any:
    """The route as served for this scope: an inclusion's effective route when the scope names
    one whose original is `route` (FastAPI's `scope["fastapi"]`), else `route` itself."""
    fastapi_scope = scope.get("fastapi")
    context = fastapi_scope.get(_CONTEXT) if isinstance(fastapi_scope, dict) else None
    if context is not None and getattr(context, "original_route", None) is route:
        return context.route
    return route


def match_route(route: Any, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
    """`APIRoute.matches`: FULL for its path and method, PARTIAL for its path only."""
    effective = _effective(route, scope)
    if scope.get("type") != "http" or "path" not in scope:
        return Match.NONE, {}
    found = path_regex(effective.path).fullmatch(route_path(scope)[0])
    if found is None:
        return Match.NONE, {}
    child = {"endpoint": effective.endpoint, "path_params": {**scope.get("path_params", {}), **found.groupdict()}}
    return (Match.FULL if scope.get("method") in effective.methods else Match.PARTIAL), child


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def serve_route(route: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """`APIRoute.handle(scope, receive, send)`: the route (its effective one, for an included
    route) answers the request as an ASGI app; a method it does not take is a 405 listing the
    ones it does (raised for the app's handlers when the scope has an app, as Starlette)."""
    effective = _effective(route, scope)
    match, child = match_route(route, scope)
    if match is not Match.FULL:
        allow = {"Allow": ", ".join(sorted(effective.methods))}
        if "app" in scope:
            raise HTTPException(405, headers=allow)
        await PlainTextResponse("Method Not Allowed", status_code=405, headers=allow)(scope, receive, send)
        return
    request = Request(raw_request(scope, await _read_body(receive)), scope.get("app"))
    request.path_params = child["path_params"]
    if "fastapi" in scope:
        request.scope_extra["fastapi"] = scope["fastapi"]
    response = await effective.serve(request)
    await response(scope, receive, send)


def _select(routes: Iterable[Any], scope: dict[str, Any]) -> tuple[Match, Any, dict[str, Any]]:
    """Starlette's choice: the first route matching fully, else the first matching its path."""
    partial: tuple[Any, dict[str, Any]] | None = None
    for route in _flat(routes):
        matches = getattr(route, "matches", None)
        if matches is None:
            continue
        match, child = matches(scope)
        if match is Match.FULL:
            return match, route, child
        if match is Match.PARTIAL and partial is None:
            partial = route, child
    if partial is not None:
        return Match.PARTIAL, *partial
    return Match.NONE, None, {}


async def dispatch(routes: Iterable[Any], scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A router as an ASGI app, as Starlette's: the route `_select` chooses handles the
    request (a 405 for a path-only match), else 404."""
    match, route, child = _select(routes, scope)
    if route is not None:
        scope.update(child)
        await route.handle(scope, receive, send)
        return
    if "app" in scope:
        raise HTTPException(404)
    await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)


class RouteObjectAPI:
    """`matches` and `handle(scope, receive, send)` of `APIRoute` (see the module docstring)."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        return match_route(self, scope)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await serve_route(self, scope, receive, send)


def _flat(routes: Iterable[Any]) -> Iterator[Any]:
    """Routes with each inclusion replaced by the routes served through it."""
    for route in routes:
        served = getattr(route, "effective_candidates", None)
        yield from (served() if served is not None else (route,))


class RouterObjectAPI:
    """`APIRouter` as Starlette's `Router`: an app compiles an included router's routes, so it
    never asks the router itself, unless its class overrides `matches` or `handle`
    (`CustomInclusion`); one used as an ASGI app (called directly, or mounted) routes each
    request through its routes here, in Python."""

    routes: list[Any]

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        inclusion = _inclusion_of(self, scope)
        if inclusion is None:
            return Match.NONE, {}
        return _select(_candidates(inclusion), scope)[0], {}

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        inclusion = _inclusion_of(self, scope)
        routes = _candidates(inclusion) if inclusion is not None else self.routes
        await dispatch(routes, scope, receive, send)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.handle(scope, receive, send)


def overrides_route_api(route: Any) -> bool:
    """Whether `route` (or the route it was derived from) is of a route class that overrides
    `matches` or `handle`: then it is asked, not compiled."""
    cls = type(getattr(route, "original_route", route))
    return issubclass(cls, RouteObjectAPI) and (
        cls.matches is not RouteObjectAPI.matches or cls.handle is not RouteObjectAPI.handle
    )


class CustomRoute:
    """An effective route whose class overrides `matches` or `handle`: its original route
    object is asked, with the scope naming the effective route (`context`, its
    `RouteContext`, as FastAPI does), so the original's own code runs for requests through an
    inclusion too."""

    def __init__(self, route: Any, context: Any) -> None:
        self.original = getattr(route, "original_route", route)
        self.context = context

    def _scoped(self, scope: dict[str, Any]) -> dict[str, Any]:
        fastapi_scope = scope.get("fastapi")
        scope["fastapi"] = {**(fastapi_scope if isinstance(fastapi_scope, dict) else {}), _CONTEXT: self.context}
        return scope

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        match: tuple[Match, dict[str, Any]] = self.original.matches(self._scoped(dict(scope)))
        return match

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.original.handle(self._scoped(scope), receive, send)


def _inclusion_of(router: Any, scope: dict[str, Any]) -> Any:
    """The inclusion of `router` the scope is being routed through (`CustomInclusion`)."""
    fastapi_scope = scope.get("fastapi")
    inclusion = fastapi_scope.get(_INCLUDED) if isinstance(fastapi_scope, dict) else None
    return inclusion if getattr(inclusion, "router", None) is router else None


class _Branch:
    """A router included (with a class overriding `matches`/`handle`) inside an inclusion that
    is asked: the effective routes of the outer inclusion that come from it."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.contexts: list[Any] = []

    def effective_route_contexts(self) -> list[Any]:
        return self.contexts


def _candidates(inclusion: Any) -> list[Any]:
    """What an asked inclusion routes through: its effective routes (as `RouteContext`s), but
    those of a nested router whose class overrides `matches`/`handle` grouped, where the first
    of them is, into one `CustomInclusion`, so that router is asked in turn (as in FastAPI)."""
    contexts = list(inclusion.effective_route_contexts())
    branches: dict[int, _Branch] = {}
    for route in inclusion.router.routes:
        child = getattr(route, "router", None)
        if child is None or not hasattr(route, "effective_candidates") or not overrides_router_api(child):
            continue
        branch = _Branch(child)
        for served in route.effective_candidates():
            branches[id(getattr(served, "original_route", served))] = branch
    if not branches:
        return contexts
    found: list[Any] = []
    for context in contexts:
        branch = branches.get(id(context.original_route))
        if branch is None:
            found.append(context)
            continue
        if not branch.contexts:
            found.append(CustomInclusion(branch))
        branch.contexts.append(context)
    return found


def overrides_router_api(router: Any) -> bool:
    cls = type(router)
    return issubclass(cls, RouterObjectAPI) and (
        cls.matches is not RouterObjectAPI.matches or cls.handle is not RouterObjectAPI.handle
    )


class CustomInclusion:
    """An inclusion of a router whose class overrides `matches` or `handle`: its routes are
    not compiled; the router is asked, the scope naming the inclusion, and its default
    `matches`/`handle` route through the inclusion's effective routes."""

    def __init__(self, inclusion: Any) -> None:
        self.inclusion = inclusion

    def _scoped(self, scope: dict[str, Any]) -> dict[str, Any]:
        fastapi_scope = scope.get("fastapi")
        scope["fastapi"] = {**(fastapi_scope if isinstance(fastapi_scope, dict) else {}), _INCLUDED: self.inclusion}
        return scope

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        match: tuple[Match, dict[str, Any]] = self.inclusion.router.matches(self._scoped(dict(scope)))
        return match

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.inclusion.router.handle(self._scoped(scope), receive, send)


class RouteList:
    """The app of Starlette's `Mount(path, routes=[...])`: its routes, as an ASGI app."""

    def __init__(self, routes: list[Any]) -> None:
        self.routes = list(routes)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await dispatch(self.routes, scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        for route in self.routes:
            try:
                return str(route.url_path_for(name, **path_params))
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


class Host(BaseRoute):
    """Starlette's `Host`: requests whose Host header matches `host` (`"{subdomain}.example.com"`,
    each `{name}` a path parameter) go to `app`. covet's Rust router matches paths only: a
    `Host` is asked, as any route object of the app's own, for paths no compiled route takes
    (a Host header costs nothing to the other routes)."""

    def __init__(self, host: str, app: Any, name: str | None = None) -> None:
        self.host = host
        self.app = app
        self.name = name
        self.path = ""
        self.methods: set[str] = set()
        self.include_in_schema = False
        self._regex = path_regex(host)

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        if scope.get("type") not in ("http", "websocket"):
            return Match.NONE, {}
        host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").split(":")[0]
        found = self._regex.fullmatch(host)
        if found is None:
            return Match.NONE, {}
        return Match.FULL, {"path_params": {**scope.get("path_params", {}), **found.groupdict()}}

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """`"host_name:route_name"`: the app's route path, with the host filled in (`.host`)."""
        inner = getattr(self.app, "url_path_for", None)
        if self.name is None or inner is None or not name.startswith(self.name + ":"):
            raise NoMatchFound(name, path_params)
        names = {found.group(1) for found in _PARAM.finditer(self.host)}
        if not names <= set(path_params):
            raise NoMatchFound(name, path_params)
        rest = {k: v for k, v in path_params.items() if k not in names}
        path = inner(name[len(self.name) + 1 :], **rest)
        host = _PARAM.sub(lambda found: str(path_params[found.group(1)]), self.host)
        return URLPath(str(path), protocol="http", host=host)
