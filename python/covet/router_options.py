"""FastAPI's application and router options that are not about a single route: `root_path`,
`webhooks`, `openapi_external_docs`, the startup/shutdown hooks and lifespans a router
brings to the app that includes it, and which options a route inherits from its router or
from `include_router` (FastAPI's precedence).

Everything here runs at declaration or at startup; nothing on the request path.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

__all__ = [
    "apply_app_options",
    "as_lifespan",
    "explicit_head_paths",
    "head_routes_first",
    "merge_router_events",
    "merged_lifespan",
    "served_methods",
]


def apply_app_options(
    app: Any,
    *,
    routes: Sequence[Any] | None,
    root_path: str,
    root_path_in_servers: bool,
    openapi_external_docs: dict[str, Any] | None,
    callbacks: Sequence[Any] | None,
    webhooks: Any,
    deprecated: bool | None,
    include_in_schema: bool,
    generate_unique_id_function: Callable[[Any], str] | None,
    strict_content_type: bool,
) -> None:
    """The constructor options `Covet.__init__` hands over as they are (FastAPI's meanings)."""
    if root_path:
        # FastAPI deprecates it in favour of the server's setting; it still applies.
        warnings.warn(
            "The `root_path` parameter is deprecated: set the server's root path instead.",
            DeprecationWarning,
            stacklevel=3,
        )
    app.root_path = root_path
    app.root_path_in_servers = root_path_in_servers
    app.openapi_external_docs = openapi_external_docs
    app.callbacks = list(callbacks or [])
    # Routes documented under `webhooks` in the OpenAPI document, never served.
    app.webhooks = webhooks
    app.deprecated = deprecated
    app.include_in_schema = include_in_schema
    if generate_unique_id_function is not None:
        app.generate_unique_id_function = generate_unique_id_function
    app.strict_content_type = strict_content_type
    app.router_lifespans = []
    app.lifespan_state = None  # what the lifespans yielded, copied into each request.state
    if routes:
        app.routes.extend(routes)


def merge_router_events(parent: Any, router: Any) -> None:
    """`include_router`: the included router's startup/shutdown hooks and lifespans become the
    parent's, so they run when the app starts (FastAPI merges them the same way)."""
    parent.on_startup_handlers.extend(router.on_startup_handlers)
    parent.on_shutdown_handlers.extend(router.on_shutdown_handlers)
    lifespans = getattr(parent, "router_lifespans", None)
    if lifespans is None:
        lifespans = parent.router_lifespans = []
    if router.lifespan is not None:
        lifespans.append(router.lifespan)
    lifespans.extend(router.router_lifespans)


def as_lifespan(lifespan: Any) -> Any:
    """A lifespan given as a plain (async) generator function, wrapped into a context manager
    factory; a context manager factory as it is."""
    if inspect.isasyncgenfunction(lifespan):
        return contextlib.asynccontextmanager(lifespan)
    if inspect.isgeneratorfunction(lifespan):
        sync_cm = contextlib.contextmanager(lifespan)

        @contextlib.asynccontextmanager
        async def wrapped(app: Any) -> AsyncIterator[Any]:
            with sync_cm(app) as state:
                yield state

        return wrapped
    return lifespan


@contextlib.asynccontextmanager
async def merged_lifespan(app: Any) -> AsyncIterator[dict[str, Any] | None]:
    """The app's lifespan, then the included routers' in include order; their states are
    merged, the app's own keys winning (FastAPI's order). None when none yields a state."""
    async with contextlib.AsyncExitStack() as stack:
        own: Any = None
        if app.lifespan is not None:
            own = await stack.enter_async_context(as_lifespan(app.lifespan)(app))
        merged: dict[str, Any] | None = None
        for lifespan in getattr(app, "router_lifespans", ()):
            state = await stack.enter_async_context(as_lifespan(lifespan)(app))
            if isinstance(state, dict):
                merged = {**(merged or {}), **state}
        if isinstance(own, dict):
            merged = {**(merged or {}), **own}
        yield merged


def explicit_head_paths(routes: Sequence[Any]) -> set[str]:
    """Paths with a route that declares HEAD itself (`@app.head(...)`)."""
    return {
        r.path
        for r in routes
        if "HEAD" in (getattr(r, "methods", None) or ()) and not getattr(r, "implicit_head", True)
    }


def served_methods(route: Any, explicit_heads: set[str]) -> set[str]:
    """The methods the engine routes to `route`: a GET route's implicit HEAD gives way to a
    HEAD route declared for the same path (which FastAPI, with no implicit HEAD, serves)."""
    methods: set[str] = route.methods
    if getattr(route, "implicit_head", False) and route.path in explicit_heads:
        return methods - {"HEAD"}
    return methods


def head_routes_first(routes: Sequence[Any]) -> list[tuple[int, Any]]:
    """(index, route) in the order the engine's router gets them: HEAD-only routes first, so
    that they answer HEAD before a GET route on the same path would (the engine lets GET routes
    take HEAD); the rest in declaration order. A HEAD-only route matches nothing else, so no
    other request is routed differently."""
    indexed = list(enumerate(routes))
    first = [(i, r) for i, r in indexed if set(getattr(r, "methods", None) or ()) == {"HEAD"}]
    if not first:
        return indexed
    return first + [(i, r) for i, r in indexed if set(getattr(r, "methods", None) or ()) != {"HEAD"}]


def inherit_route_options(registry: Any, options: dict[str, Any]) -> None:
    """This app's or router's callbacks, unique id function and content-type strictness, for a
    route that does not set its own (FastAPI's precedence)."""
    if registry.callbacks:
        options["callbacks"] = [*registry.callbacks, *(options.get("callbacks") or [])]
    if options.get("generate_unique_id_function") is None:
        options["generate_unique_id_function"] = registry.generate_unique_id_function
    if options.get("strict_content_type") is None:
        options["strict_content_type"] = registry.strict_content_type


def include_options(
    options: dict[str, Any],
    route: Any,
    router: Any,
    default_response_class: type[Any] | None,
    callbacks: list[Any] | None,
    generate_unique_id_function: Callable[[Any], str] | None,
) -> None:
    """A route's options as `include_router` passes them on: what the route or its router set
    wins over the include's arguments, which win over the including app's or router's."""
    chosen = getattr(route, "response_class_set", None) or default_response_class
    if chosen is None:
        options.pop("response_class", None)
    else:
        options["response_class"] = chosen
    if callbacks:
        options["callbacks"] = [*callbacks, *(options.get("callbacks") or [])]
    if options.get("generate_unique_id_function") is None:
        options["generate_unique_id_function"] = generate_unique_id_function
