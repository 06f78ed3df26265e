"""Router inclusion: what `include_router` records, and the routes derived from the record.

`parent.include_router(router, prefix=..., tags=...)` does not copy the router's routes: it puts
an `_IncludedRouter` in `parent.routes`, which keeps the router and the include's options. The
routes served through it (its *effective* routes: the router's own, with the include's prefix and
options and the parent's applied, FastAPI's precedence) are derived from that record when asked,
and kept until the router changes. A router counts its changes (`_get_routes_version`) and tells
every router or app including it, up to the app, which drops its compiled routing table; so a
route added to a router after it was included is served on the next request ("live" inclusion,
as in FastAPI), and everything is still analysed once, before the request path: the app compiles
the effective routes into the engine's Rust router, as it does its own.

A `RouteContext` is one effective route as user code sees it: `iter_route_contexts(app.routes)`
lists them (to filter the routes a custom OpenAPI document describes, say), and a request's
scope carries the one serving it under `scope["fastapi"]["effective_route_context"]`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from covet.exceptions import FastAPIError
from covet.frontend import Frontend
from covet.mounts import Mount, check_prefix
from covet.route_matching import BaseRoute, Match, NoMatchFound
from covet.route_objects import (
    CustomInclusion,
    CustomRoute,
    Host,
    RouteList,
    RouteObjectAPI,
    overrides_route_api,
    overrides_router_api,
    path_regex,
)
from covet.router_options import include_options, merge_router_events
from covet.websocket_routing import APIWebSocketRoute

__all__ = [
    "IncludeOptions",
    "RouteContext",
    "RouterInclusion",
    "compile_routes",
    "effective_routes",
    "iter_route_contexts",
    "route_url_path",
]

_PARAM = re.compile(r"\{([A-Za-z_]\w*)(?::[^}]*)?\}")
_MISSING: Any = object()


@dataclass
class IncludeOptions:
    """The arguments of one `include_router` call."""

    prefix: str = ""
    tags: list[Any] = field(default_factory=list)
    dependencies: list[Any] = field(default_factory=list)
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    deprecated: bool | None = None
    include_in_schema: bool = True
    default_response_class: Any = None
    callbacks: list[Any] | None = None
    generate_unique_id_function: Callable[[Any], str] | None = None


class _IncludedRouter(BaseRoute):
    """One inclusion of `router` into `parent` (see the module docstring). It takes no part in
    matching itself: the app compiles its effective routes."""

    include_in_schema = False
    methods: frozenset[str] = frozenset()

    def __init__(self, parent: Any, router: Any, options: IncludeOptions) -> None:
        self.parent = parent
        self.router = router
        self.options = options
        self.path = parent.prefix + options.prefix
        self.name = None
        self._effective_routes_lock = threading.Lock()
        self._effective_candidates: list[Any] = []
        self._effective_candidates_version: int | None = None
        self._effective_low_priority_routes: list[Any] = []
        self._effective_low_priority_routes_version: int | None = None

    def __repr__(self) -> str:
        return f"_IncludedRouter(prefix={self.path!r}, routes={len(self.router.routes)})"

    def effective_candidates(self) -> list[Any]:
        """The routes served through this inclusion, derived once per change of the router."""
        return self._cached("_effective_candidates", lambda: _derive_all(self, self.router.routes))

    def effective_low_priority_routes(self) -> list[Any]:
        """The router's low-priority routes (frontends, and routes consulted only when no other
        route matches), as served through this inclusion."""
        return self._cached("_effective_low_priority_routes", lambda: _derive_low(self))

    def effective_route_contexts(self) -> Iterator[RouteContext]:
        for route in self.effective_candidates():
            yield RouteContext(route)

    def _cached(self, attr: str, build: Callable[[], list[Any]]) -> list[Any]:
        version_attr = attr + "_version"
        if getattr(self, version_attr) == self.router._get_routes_version():
            return getattr(self, attr)  # type: ignore[no-any-return]
        with self._effective_routes_lock:
            version = self.router._get_routes_version()
            if getattr(self, version_attr) != version:  # another thread may have built it
                setattr(self, attr, build())
                setattr(self, version_attr, version)
            return getattr(self, attr)  # type: ignore[no-any-return]

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        return routes_url_path(self.effective_candidates(), name, path_params)

    async def _handle_selected(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """An ASGI request that none of this inclusion's routes took: 404 (the app routes
        requests through its compiled table, never through this object)."""
        from covet.responses import PlainTextResponse

        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)


RouterInclusion = _IncludedRouter


class RouteContext:
    """One effective route (a route as served, after every inclusion above it) with the route
    it was declared as (`original_route`). Any other attribute is the effective route's."""

    def __init__(self, route: Any, dependency_overrides_provider: Any = None) -> None:
        self.route = route
        self.original_route = getattr(route, "original_route", route)
        self.dependency_overrides_provider = dependency_overrides_provider

    def __getattr__(self, name: str) -> Any:
        if name == "route":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.route, name)

    def __repr__(self) -> str:
        return f"RouteContext({self.route!r})"

    @property
    def path_format(self) -> str:
        return _PARAM.sub(r"{\1}", self.route.path)

    @property
    def methods(self) -> set[str]:
        """The declared methods (a GET route's implicit HEAD left out, as FastAPI lists them)."""
        methods = set(getattr(self.route, "methods", ()) or ())
        return methods - {"HEAD"} if getattr(self.route, "implicit_head", False) else methods

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        """Starlette's route interface: whether an HTTP scope is for this route."""
        if scope.get("type") != "http" or isinstance(self.route, Mount | APIWebSocketRoute):
            return Match.NONE, {}
        found = path_regex(self.route.path).fullmatch(scope.get("path", ""))
        if found is None:
            return Match.NONE, {}
        child = {"path_params": found.groupdict(), "fastapi": {"effective_route_context": self}}
        method = scope.get("method")
        return (Match.FULL if method is None or method in self.route.methods else Match.PARTIAL), child

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        return route_url_path(self.route, name, path_params)


def iter_route_contexts(routes: Iterable[Any]) -> Iterator[RouteContext]:
    """A `RouteContext` per route served through `routes` (included routers expanded)."""
    for route in effective_routes(routes):
        yield RouteContext(route)


def effective_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """`routes` with each inclusion replaced by its effective routes (and a `RouteContext` by
    its route): the flat list that is compiled and documented."""
    for route in routes:
        if isinstance(route, _IncludedRouter):
            yield from route.effective_candidates()
        elif isinstance(route, RouteContext):
            yield route.route
        else:
            yield route


def _iter_included_route_candidates(routes: Iterable[Any]) -> Iterator[Any]:
    """FastAPI's candidates of `routes`: an included `APIRoute` as declared (its original),
    a Starlette `Route` or a mount as served (under the include's prefix)."""
    for route in effective_routes(routes):
        original = getattr(route, "original_route", route)
        starlette = hasattr(getattr(original, "endpoint", None), "starlette_endpoint")
        yield original if isinstance(original, RouteObjectAPI) and not starlette else route


def _restore_fastapi_scope_key(scope: dict[str, Any], key: str, value: Any) -> None:
    """Sets (or, for `_MISSING`, removes) `key` of a scope's `"fastapi"` dict; a scope whose
    `"fastapi"` entry is not a dict is left alone."""
    fastapi_scope = scope.get("fastapi")
    if not isinstance(fastapi_scope, dict):
        return
    if value is _MISSING:
        fastapi_scope.pop(key, None)
    else:
        fastapi_scope[key] = value


def with_route_context(scope: dict[str, Any], route: Any, app: Any) -> None:
    """Adds the effective route serving a request to its scope (`Request.scope`)."""
    scope.setdefault("fastapi", {})
    _restore_fastapi_scope_key(scope, "effective_route_context", RouteContext(route, app))


# --- include_router ----------------------------------------------------------------------------


def include_router(parent: Any, router: Any, options: IncludeOptions) -> None:
    """Records the inclusion of `router` into `parent` (see the module docstring)."""
    check_prefix(options.prefix, "An include prefix")
    # FastAPI's exception type and message, which apps and tests match on.
    assert router is not parent, (
        "Cannot include the same APIRouter instance into itself. Did you mean to include a different router?"
    )
    assert not _includes(router, parent), (
        f"Cannot include {router!r} here: it already includes this router (directly or through its "
        "own inclusions), so including it would make a cycle."
    )
    merge_router_events(parent, router)
    inclusion = _IncludedRouter(parent, router, options)
    if not options.prefix:  # a route at the router's prefix needs one to be reachable
        for route in effective_routes(router.routes):
            if isinstance(route, BaseRoute | Mount | APIWebSocketRoute) or getattr(route, "path", "/"):
                continue
            raise FastAPIError(f"Prefix and path cannot be both empty (path operation: {route.name})")
    router._included_by.add(parent)
    parent.routes.append(inclusion)
    parent._mark_routes_changed()


def _includes(router: Any, target: Any) -> bool:
    for route in getattr(router, "routes", ()):
        if isinstance(route, _IncludedRouter) and (route.router is target or _includes(route.router, target)):
            return True
    return False


def _derive_all(inclusion: _IncludedRouter, routes: Iterable[Any]) -> list[Any]:
    derived = (_derive(inclusion, route) for route in effective_routes(routes))
    return [route for route in derived if route is not None]


def _derive(inclusion: _IncludedRouter, route: Any) -> Any:
    """`route` (one of the included router's effective routes) as served from the parent."""
    parent, opts = inclusion.parent, inclusion.options
    if isinstance(route, APIWebSocketRoute):
        options = route.options()
        options["dependencies"] = [*opts.dependencies, *options["dependencies"]]
        derived = parent._make_websocket_route(opts.prefix + route.path, route.endpoint, **options)
    elif isinstance(route, Mount):
        derived = Mount(parent.prefix + opts.prefix + route.path, route.app, name=route.name)
    elif isinstance(route, Host):  # its app under the include's prefix, as FastAPI does
        prefix = parent.prefix + opts.prefix
        derived = Host(route.host, RouteList([Mount(prefix, route.app)]) if prefix else route.app, name=route.name)
    elif hasattr(route, "options") and hasattr(route, "endpoint"):
        if not opts.prefix and not route.path:
            raise FastAPIError(f"Prefix and path cannot be both empty (path operation: {route.name})")
        options = route.options()
        options["tags"] = [*opts.tags, *options["tags"]]
        options["dependencies"] = [*opts.dependencies, *options["dependencies"]]
        options["responses"] = {**opts.responses, **options["responses"]}
        if opts.deprecated is not None and options["deprecated"] is None:
            options["deprecated"] = opts.deprecated
        options["include_in_schema"] = options["include_in_schema"] and opts.include_in_schema
        include_options(
            options,
            route,
            inclusion.router,
            opts.default_response_class,
            opts.callbacks,
            opts.generate_unique_id_function,
        )
        derived = parent._make_api_route(
            opts.prefix + route.path, route.endpoint, route_class_override=type(route), **options
        )
    else:
        return None  # a route object covet cannot serve (its matching is the engine's)
    derived.original_route = getattr(route, "original_route", route)
    # The request hooks of every router the route is served through, outermost first.
    own = inclusion.router.request_hooks
    groups = ((own,) if own else ()) + getattr(route, "hook_groups", ())
    if groups:
        derived.hook_groups = groups
    return derived


def _derive_low(inclusion: _IncludedRouter) -> list[Any]:
    parent, opts = inclusion.parent, inclusion.options
    derived: list[Any] = []
    for route in low_priority_routes(inclusion.router):
        if isinstance(route, Frontend):
            derived.append(route.included(parent.prefix + opts.prefix, [*parent.dependencies, *opts.dependencies]))
        else:
            derived.extend(_derive_all(inclusion, [route]))
    return derived


def low_priority_routes(registry: Any) -> list[Any]:
    """A registry's low-priority routes, its inclusions' included, in declaration order."""
    found = list(registry._low_priority_routes)
    for route in registry.routes:
        if isinstance(route, _IncludedRouter):
            found.extend(route.effective_low_priority_routes())
    return found


# --- url_path_for ------------------------------------------------------------------------------


def route_url_path(route: Any, name: str, path_params: dict[str, Any]) -> str:
    """The path of `route` when it is the one named `name` taking exactly `path_params`."""
    if isinstance(route, _IncludedRouter | RouteContext):
        return route.url_path_for(name, **path_params)
    if isinstance(route, Mount | Host):
        return route.url_path_for(name, **path_params)
    path = getattr(route, "path", None)
    if getattr(route, "name", None) != name or path is None:
        raise NoMatchFound(name, path_params)
    if {found.group(1) for found in _PARAM.finditer(path)} != set(path_params):
        raise NoMatchFound(name, path_params)
    return _PARAM.sub(lambda found: str(path_params[found.group(1)]), path)


def routes_url_path(routes: Iterable[Any], name: str, path_params: dict[str, Any]) -> str:
    """The first of `routes` named `name` that takes `path_params` (Starlette's order)."""
    for route in routes:
        try:
            return route_url_path(route, name, path_params)
        except NoMatchFound:
            continue
    raise NoMatchFound(name, path_params)


# --- the app's compiled table ------------------------------------------------------------------


@dataclass
class CompiledRoutes:
    """What the app serves: `served` is indexed by the engine's endpoint numbers (its normal
    routes first, then its low-priority ones, which only `low` routes to); `custom` are route
    objects of the app's own (Starlette `BaseRoute` subclasses) the engine cannot compile,
    asked in turn (`matches`) for a path no compiled route matches; `frontends` answer what
    none of those takes."""

    served: list[Any]
    low: Any
    frontends: list[Frontend]
    custom: list[Any] = field(default_factory=list)


def compile_routes(app: Any) -> tuple[Any, CompiledRoutes]:
    """The app's engine router from its routes, inclusions expanded (see `CompiledRoutes`);
    route conflicts raise here."""
    from covet import _engine
    from covet.router_options import explicit_head_paths, head_routes_first, served_methods

    served, asked = [], []
    for route in _compiled_or_asked(app.routes, asked):
        if overrides_route_api(route):
            asked.append(CustomRoute(route, RouteContext(route)))
        elif _servable(route):
            served.append(route)
        elif isinstance(route, Host):
            asked.append(route)
    low_routes: list[Any] = []
    frontends: list[Frontend] = []
    for route in low_priority_routes(app):
        (frontends if isinstance(route, Frontend) else low_routes).append(route)
    heads = explicit_head_paths(served)

    def add(router: Any, index: int, route: Any) -> None:
        if isinstance(route, Mount):
            router.mount(route.path, index, route.name)
        else:
            router.add(route.path, sorted(served_methods(route, heads)), index, route.name)

    router = _engine.Router(app.redirect_slashes)
    for index, route in head_routes_first(served):
        add(router, index, route)
    low = None
    if low_routes:
        low = _engine.Router(False)
        for index, route in enumerate(low_routes, start=len(served)):
            add(low, index, route)
        served.extend(low_routes)
    own = [r for r in app.routes if isinstance(r, BaseRoute) and not isinstance(r, _IncludedRouter | Host)]
    custom = asked + own
    return router, CompiledRoutes(served, low, frontends, custom)


def _compiled_or_asked(routes: list[Any], asked: list[Any]) -> Iterator[Any]:
    """The effective routes of `routes`, but for the inclusions of a router class overriding
    `matches`/`handle`, which go to `asked` whole."""
    for route in routes:
        if isinstance(route, _IncludedRouter) and overrides_router_api(route.router):
            asked.append(CustomInclusion(route))
        else:
            yield from effective_routes([route])


def _servable(route: Any) -> bool:
    return isinstance(route, Mount | APIWebSocketRoute) or hasattr(route, "engine_call")
