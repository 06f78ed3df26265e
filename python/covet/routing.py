"""Routes, the route-registering decorators, and `APIRouter`.

An `APIRoute` is analysed once, when it is registered: its `Dependant` (what it takes from the
request, and its dependencies), how its result becomes a response (`response_model`,
`response_class`, `status_code`), and whether the engine may run it inline (an `async def`
with no `await`, no dependencies and nothing to do after it returns). Matching itself happens
in the engine's Rust router.
"""

from __future__ import annotations

import inspect
import os
import weakref
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

from pydantic import ValidationError

from covet.concurrency import can_suspend, run_in_threadpool
from covet.dependencies.analysis import get_dependant
from covet.dependencies.callables import call_kind
from covet.dependencies.models import Dependant, scopes_matter
from covet.dependencies.pydantic_v1 import refuse_pydantic_v1
from covet.dependencies.route_level import route_dependency as _route_dependency
from covet.dependencies.shared_body import embed_shared_body
from covet.dependencies.solve import (
    RequestContext,
    body_values,
    close,
    endpoint_context,
    solve,
    validate_request_values,
)
from covet.exceptions import RequestValidationError, ResponseValidationError
from covet.frontend import Frontend
from covet.frontend_routes import FrontendRoutes
from covet.hooks import HookRegistry
from covet.mounts import Mount, check_prefix
from covet.params import DependsParam
from covet.requests import Request
from covet.responses import JSONResponse, Response
from covet.route_fast_path import _fast_args, _shape
from covet.route_inclusion import (
    IncludeOptions,
    RouteContext,
    _IncludedRouter,
    _iter_included_route_candidates,
    _restore_fastapi_scope_key,
    iter_route_contexts,
    route_url_path,
    routes_url_path,
)
from covet.route_inclusion import include_router as _include
from covet.route_matching import BaseRoute, Match, NoMatchFound
from covet.route_objects import Host, RouteObjectAPI, RouterObjectAPI
from covet.route_responses import (
    bodiless_status,
    check_response_models,
    json_bytes_response,
    merge_response_param,
    response_adapter,
    return_annotation,
    text_type,
)
from covet.router_options import inherit_route_options
from covet.streams import StreamPlan, is_generator, stream_item_type
from covet.websocket_routing import APIWebSocketRoute

__all__ = [
    "APIRoute",
    "APIWebSocketRoute",
    "Route",
    "APIRouter",
    "Router",
    "Mount",
    "BaseRoute",
    "Host",
    "Match",
    "NoMatchFound",
    "RouteContext",
    "iter_route_contexts",
    # FastAPI internal names some code imports from here.
    "_IncludedRouter",
    "_iter_included_route_candidates",
    "_restore_fastapi_scope_key",
]

F = TypeVar("F", bound=Callable[..., Any])


class _DefaultPlaceholder:
    def __repr__(self) -> str:
        return "Default"


Default: Any = _DefaultPlaceholder()
# Seconds without an event before a generator handler's event stream sends a `: ping` comment
# (read when each response starts, so a test can shorten it).
_PING_INTERVAL = 15.0


class APIRoute(RouteObjectAPI):
    """One path + methods bound to a handler, with FastAPI's route options (and Starlette's
    `matches`/`handle(scope, receive, send)`, never used by covet's server: covet.route_objects)."""

    # A route only described in the OpenAPI document (a webhook), never served: its "path" is
    # any name (FastAPI's `@app.webhooks.post("new-subscription")`).
    documentation_only = False

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        response_model: Any = Default,
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        methods: Sequence[str] | None = None,
        operation_id: str | None = None,
        response_model_include: Any = None,
        response_model_exclude: Any = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = JSONResponse,
        name: str | None = None,
        openapi_extra: dict[str, Any] | None = None,
        callbacks: list[Any] | None = None,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        strict_content_type: bool | None = None,
        cache: Any = None,
    ) -> None:
        # A callback router's paths start with an OpenAPI runtime expression (`{$callback_url}`):
        # they are only documented, never served.
        # "": a router's route at its prefix itself (`@router.get("")`), made whole on include.
        if path and not path.startswith(("/", "{$")) and not self.documentation_only:
            raise ValueError(f"Route path {path!r} must start with '/'")
        self.path = path
        self.endpoint = endpoint
        self.methods = {m.upper() for m in methods} if methods else {"GET"}
        # HEAD is served by a GET route, unless a route of its own declares it for this path.
        self.implicit_head = "GET" in self.methods and "HEAD" not in self.methods
        if "GET" in self.methods:
            self.methods.add("HEAD")
        self.name = name or getattr(endpoint, "__name__", type(endpoint).__name__)
        self.status_code = status_code
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.summary = summary
        # As FastAPI: the docstring describes the operation, up to a form feed (\f).
        self.description = description if description is not None else _doc(endpoint)
        self.response_description = response_description
        self.responses = dict(responses or {})
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.include_in_schema = include_in_schema
        self.response_class = response_class
        self.openapi_extra = openapi_extra
        self.callbacks = callbacks
        self.generate_unique_id_function = generate_unique_id_function
        self.strict_content_type = strict_content_type
        self.response_model = return_annotation(endpoint) if response_model is Default else response_model
        self._dump_options = {
            "include": response_model_include,
            "exclude": response_model_exclude,
            "by_alias": response_model_by_alias,
            "exclude_unset": response_model_exclude_unset,
            "exclude_defaults": response_model_exclude_defaults,
            "exclude_none": response_model_exclude_none,
        }
        for model in (self.response_model, *(r.get("model") for r in self.responses.values() if isinstance(r, dict))):
            refuse_pydantic_v1(model, f"The response model of {path}")
        # A generator handler streams what it yields (covet.streams); the item type, not the
        # annotation, is what gets validated.
        self.stream: StreamPlan | None = None
        if is_generator(endpoint):
            item = stream_item_type(self.response_model) if response_model is Default else None
            self.stream = StreamPlan(response_class, item, self._dump_options)
            self.response_model = None
        self._response_adapter = response_adapter(self.response_model)
        check_response_models(self.responses)
        self.dependant = get_dependant(endpoint, path=path, endpoint=True)
        for dep in reversed(self.dependencies):
            self.dependant.dependencies.insert(0, _route_dependency(dep, path))
        embed_shared_body(self.dependant)
        self.is_async = _is_async(endpoint)
        d = self.dependant
        # `simple`: the request values can be validated synchronously, with nothing to solve
        # (no dependencies, no special objects to merge afterwards).
        self.simple = not (
            d.dependencies
            or d.response_param
            or d.background_param
            or d.security_scopes_param_name
            or any(f.source != "body" for f in d.body_params)
        )
        # `convert`: the return value needs Python (a response model, or not plain JSON).
        self.convert = self._response_adapter is not None or response_class is not JSONResponse
        self.noarg = self.simple and not (d.all_params() or d.body_params or d.request_param)
        # A `str` returned for a text response class: the engine writes it as it is.
        # (A `str` response model changes nothing for such a value.)
        plain = self._response_adapter is None or self.response_model is str
        self.text_type = text_type(response_class) if plain else None
        # A response model of lists, str-keyed dicts and Any the engine can check itself, for a
        # JSON response: the engine writes what it checked as JSON.
        checkable = self._response_adapter is not None and response_class is JSONResponse
        self.response_shape = _shape(self.response_model) if checkable else None
        # Inline only when the bytecode inspected is the coroutine's own: a plain `def` wrapper
        # returning an `async def`'s coroutine says nothing about whether that one suspends.
        self.inline = (
            self.simple and self.is_async and inspect.iscoroutinefunction(endpoint) and not can_suspend(endpoint)
        )
        # One that can suspend: the engine starts it as a Task of its own and writes its result,
        # unless it takes the Request (which may hold uploads to close after the response).
        self.task = self.simple and self.is_async and not self.inline and not d.request_param
        # Arguments the engine can build in Rust, skipping the Request object and pydantic.
        self.fast_args = _fast_args(d) if self.simple else None
        if self.stream is not None:  # only the Python path makes the generator and streams it
            self.inline = self.task = self.noarg = False
            self.fast_args = None
        self._apply_fastapi_options()
        # `cache=CachePolicy(...)` (covet.cache): a fresh hit is the engine's; the rest, `serve`.
        self.cache = cache
        if cache is not None:
            if scopes_matter(self.dependant):  # a hit would be answered without the check
                raise ValueError(f"Route {path!r}: a CachePolicy cannot cache a route with a security dependency")
            self._serve_with(cache.wrap(self.serve))

    def _apply_fastapi_options(self) -> None:
        """What FastAPI's `generate_unique_id_function`, `strict_content_type` and an overridden
        `get_route_handler` change, decided once here."""
        # The operation id base of a custom function (covet's default one is computed per
        # method, by the OpenAPI builder).
        make_id = self.generate_unique_id_function
        self.unique_id = make_id(self) if make_id is not None else None
        # A body with no Content-Type is read as JSON only when the route says so.
        self.dependant.lax_content_type = self.strict_content_type is False  # type: ignore[attr-defined]
        if type(self).get_route_handler is not APIRoute.get_route_handler:
            self._serve_with(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Any]:
        """FastAPI's hook for `APIRoute` subclasses: the coroutine function that turns a request
        into this route's response. Override it to wrap the default (time the request, log
        it...); such a route is always served by Python, never run inline by the engine."""
        return self.serve

    def _serve_with(self, handler: Callable[[Request], Any]) -> None:
        self.serve = handler  # type: ignore[method-assign]
        self.inline = self.task = False
        self.fast_args = None

    # --- the engine's fast path ---------------------------------------------------------------

    def engine_call(self, app: Any) -> Callable[..., Any]:
        """What the engine calls: the handler itself, or a function that validates the request
        and calls the handler (raising RequestValidationError for a 422). A response model is
        applied by the engine afterwards (`response_shape`, then `to_response`)."""
        endpoint, dependant = self.endpoint, self.dependant
        if self.noarg:
            return endpoint

        def call(raw: Any) -> Any:
            return endpoint(**_simple_values(dependant, Request(raw, app)))

        return call

    # --- the Python path ------------------------------------------------------------------------

    async def serve(self, request: Request) -> Response:
        app = request.app
        ctx = RequestContext(
            request,
            getattr(app, "dependency_overrides", None) or {},
            getattr(app, "analysed_overrides", {}),
        )
        request._ctx = ctx
        try:
            try:
                if self.simple:
                    if self.dependant.body_params and request._body_pending:
                        await request.body()  # a large body arrives in chunks: collect it first
                    kwargs = _simple_values(self.dependant, request)
                else:
                    kwargs = await solve(self.dependant, ctx)
                if self.stream is not None:
                    result = self.endpoint(**kwargs)  # a generator: it runs as the response is sent
                elif self.is_async:
                    result = await self.endpoint(**kwargs)
                else:
                    result = await run_in_threadpool(self.endpoint, **kwargs)
                    if inspect.iscoroutine(result):  # a plain decorator around an `async def`
                        result = await result
            except BaseException as exc:
                if ctx.handler_stack is not None:
                    await ctx.leave_handler(exc)
                raise
            if ctx.handler_stack is not None:
                await ctx.leave_handler(None)
            return self.to_response(result, ctx)
        except Exception as exc:
            ctx.exc = exc
            if ctx.stack is not None:
                # `yield` dependencies see the error before it is answered: one may turn it into
                # another (an HTTPException), which is then the one answered.
                await close(ctx)
            raise
        except BaseException as exc:
            ctx.exc = exc
            if ctx.stack is not None and isinstance(exc, Exception):
                # As FastAPI: `yield` dependencies see the error before it is answered, and
                # what one raises instead (an HTTPException, say) is what gets answered.
                await close(ctx)
            raise

    def _error_context(self, ctx: RequestContext | None) -> dict[str, Any]:
        """Where a response failed its model. The engine converts without a request: then the
        route's own method and path (no mount prefix) name it."""
        if ctx is not None:
            return endpoint_context(self.dependant, ctx.request)
        where = endpoint_context(self.dependant, None)
        where["path"] = f"{'/'.join(sorted(self.methods))} {self.path}"
        return where

    def to_response(self, result: Any, ctx: RequestContext | None = None) -> Response:
        if isinstance(result, Response):
            response = result
        elif (bodiless := bodiless_status(self.status_code, ctx)) is not None:
            response = Response(status_code=bodiless)  # as FastAPI: a bodiless status has no body
        elif self._response_adapter is not None:
            response = self._serialize(result, ctx)
        elif self.stream is not None:  # (a stream has no response model: after that check)
            response = self.stream.response(result, self.status_code or 200, _PING_INTERVAL)
        else:
            response = self.response_class(result, status_code=self.status_code or 200)
        if ctx is not None:
            merge_response_param(response, ctx)
        return response

    def _serialize(self, result: Any, ctx: RequestContext | None = None) -> Response:
        adapter = self._response_adapter
        assert adapter is not None
        try:
            value = adapter.validate_python(result, from_attributes=True)
        except ValidationError as exc:
            errors = [{**e, "loc": ("response", *e["loc"])} for e in exc.errors(include_url=False)]
            raise ResponseValidationError(errors, body=result, endpoint_ctx=self._error_context(ctx)) from None
        status = self.status_code or 200
        if self.response_class is JSONResponse:
            return json_bytes_response(adapter.dump_json(value, **self._dump_options), status)
        content = adapter.dump_python(value, mode="json", **self._dump_options)
        return self.response_class(content, status_code=status)

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """This route's path with `path_params` filled in, when it is the one named `name`."""
        return route_url_path(self, name, path_params)

    def options(self) -> dict[str, Any]:
        """The arguments this route was made with, to re-create it under a router's prefix."""
        return {
            "response_model": Default if self.stream is not None else self.response_model,
            "status_code": self.status_code,
            "tags": self.tags,
            "dependencies": self.dependencies,
            "summary": self.summary,
            "description": self.description,
            "response_description": self.response_description,
            "responses": self.responses,
            "deprecated": self.deprecated,
            "methods": sorted(self.methods - {"HEAD"}) if "GET" in self.methods else sorted(self.methods),
            "operation_id": self.operation_id,
            "include_in_schema": self.include_in_schema,
            "response_class": self.response_class,
            "name": self.name,
            "openapi_extra": self.openapi_extra,
            "callbacks": self.callbacks,
            "generate_unique_id_function": self.generate_unique_id_function,
            "strict_content_type": self.strict_content_type,
            "cache": self.cache,
            **{f"response_model_{k}": v for k, v in self._dump_options.items()},
        }

    def __repr__(self) -> str:
        return f"APIRoute(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class Route(APIRoute):
    """Starlette's `Route`: the endpoint takes the request (`def endpoint(request)`) and
    returns a response; like any Starlette route, it is left out of the OpenAPI document."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, name: str | None = None, **options: Any) -> None:
        plain = getattr(endpoint, "starlette_endpoint", endpoint)  # re-made by include_router
        if plain is endpoint:

            async def call(request: Request) -> Any:
                if _is_async(plain):
                    return await plain(request)
                return await run_in_threadpool(plain, request)

            call.starlette_endpoint = plain  # type: ignore[attr-defined]
            endpoint = call
        options.update(include_in_schema=False, response_model=None)
        super().__init__(path, endpoint, name=name or getattr(plain, "__name__", None), **options)


def _simple_values(dependant: Dependant, request: Request) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    values = validate_request_values(dependant, request, errors)
    if dependant.body_params:
        values.update(body_values(dependant, request, errors))
    if errors:
        raise RequestValidationError(errors, endpoint_ctx=endpoint_context(dependant, request))
    if dependant.request_param:
        values[dependant.request_param] = request
    return values


def _doc(endpoint: Callable[..., Any]) -> str:
    return inspect.cleandoc(endpoint.__doc__ or "").split("\f")[0]


def _is_async(endpoint: Callable[..., Any]) -> bool:
    return call_kind(endpoint).is_coroutine


class RouteRegistry(HookRegistry):
    """The decorators shared by `Covet` and `APIRouter` (`get`, `post`, ... `api_route`, the
    request hooks)."""

    on_startup_handlers: list[Callable[[], Any]]
    on_shutdown_handlers: list[Callable[[], Any]]

    routes: list[Any]
    prefix: str = ""
    tags: list[str | Enum]
    dependencies: list[DependsParam]
    responses: dict[int | str, dict[str, Any]]
    deprecated: bool | None = None
    include_in_schema: bool = True
    default_response_class: type[Response] = JSONResponse
    route_class: type[APIRoute] = APIRoute
    callbacks: list[Any] | None = None
    # None: not set here (a route's or an including router's setting, else covet's default).
    generate_unique_id_function: Callable[[Any], str] | None = None
    strict_content_type: bool | None = None

    def on_event(self, event: str) -> Callable[[F], F]:
        """`@app.on_event("startup")` / `@router.on_event(...)`: a hook run when the app (the one
        including the router) starts or stops."""
        if event not in ("startup", "shutdown"):
            raise ValueError(f'Unknown event {event!r}: use "startup" or "shutdown"')

        def decorator(func: F) -> F:
            (self.on_startup_handlers if event == "startup" else self.on_shutdown_handlers).append(func)
            return func

        return decorator

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> APIRoute:
        route = self._make_api_route(path, endpoint, **options)
        self.routes.append(route)
        self._mark_routes_changed()
        return route

    def _make_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> APIRoute:
        """A route under this app or router, with its options (what `add_api_route` adds)."""
        options["tags"] = [*self.tags, *(options.get("tags") or [])]
        options["dependencies"] = [*self.dependencies, *(options.get("dependencies") or [])]
        options["responses"] = {**self.responses, **(options.get("responses") or {})}
        if options.get("deprecated") is None:
            options["deprecated"] = self.deprecated
        options["include_in_schema"] = options.get("include_in_schema", True) and self.include_in_schema
        # Set on the route or on this router (not a default): kept when the router is included.
        chosen = options.get("response_class") or getattr(self, "_response_class_set", None)
        options["response_class"] = chosen or self.default_response_class
        route_class = options.pop("route_class_override", None) or self.route_class
        inherit_route_options(self, options)
        route = route_class(self.prefix + path, endpoint, **options)
        route.response_class_set = chosen
        return route

    def add_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> APIRoute:
        """Starlette's `add_route`: a `Route`, whose endpoint takes the request, with none of
        this app's or router's tags, dependencies or responses (covet's docs pages use it)."""
        route = Route(self.prefix + path, endpoint, **options)
        self.routes.append(route)
        self._mark_routes_changed()
        return route

    def _routes_changed(self) -> None:
        """What this app or router drops when its routes change (an app: its routing table)."""

    def _mark_routes_changed(self) -> None:
        """Counts a change of the routes (an inclusion's derived routes are re-made after one)
        and passes it on to every router or app including this one."""
        self._routes_version = self._get_routes_version() + 1
        self._routes_changed()
        for parent in list(self._included_by):
            parent._mark_routes_changed()

    def _get_routes_version(self) -> int:
        return self.__dict__.get("_routes_version", 0)  # type: ignore[no-any-return]

    @property
    def _included_by(self) -> weakref.WeakSet[Any]:
        """The routers and apps this one is included into (weakly: a router shared by many
        apps, as in tests, keeps none of them alive)."""
        return self.__dict__.setdefault("_included_by_set", weakref.WeakSet())  # type: ignore[no-any-return]

    @property
    def _low_priority_routes(self) -> list[Any]:
        """Routes consulted only when no other route matches: frontends, and any route put
        here (FastAPI's name)."""
        return self.__dict__.setdefault("_low_priority_list", [])  # type: ignore[no-any-return]

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the first route named `name` taking `path_params` (included routers'
        routes with their prefixes)."""
        return routes_url_path(self.routes, name, path_params)

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[DependsParam] | None = None,
        origins: Sequence[str] | None = None,
    ) -> APIWebSocketRoute:
        """A WebSocket endpoint; this app's or router's dependencies apply to it, as in FastAPI."""
        route = self._make_websocket_route(path, endpoint, name, dependencies=dependencies, origins=origins)
        self.routes.append(route)
        self._mark_routes_changed()
        return route

    def _make_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[DependsParam] | None = None,
        origins: Sequence[str] | None = None,
    ) -> APIWebSocketRoute:
        deps = [*self.dependencies, *(dependencies or [])]
        return APIWebSocketRoute(self.prefix + path, endpoint, name=name, dependencies=deps, origins=origins)

    def websocket(
        self,
        path: str,
        name: str | None = None,
        *,
        dependencies: Sequence[DependsParam] | None = None,
        origins: Sequence[str] | None = None,
    ) -> Callable[[F], F]:
        """`@app.websocket("/ws/{room}")`: the endpoint takes a `WebSocket` and any path, query,
        header, cookie or `Depends` parameters."""

        def decorator(func: F) -> F:
            self.add_api_websocket_route(path, func, name, dependencies=dependencies, origins=origins)
            return func

        return decorator

    websocket_route = websocket

    def api_route(self, path: str, **options: Any) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_api_route(path, func, **options)
            return func

        return decorator

    route = api_route

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["DELETE"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["OPTIONS"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["HEAD"], **options)

    def trace(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["TRACE"], **options)

    def include_router(
        self,
        router: APIRouter,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        default_response_class: type[Response] | None = None,
        callbacks: list[Any] | None = None,
        generate_unique_id_function: Callable[[Any], str] | None = None,
    ) -> None:
        """Serves `router`'s routes here, under `prefix`, with the include's options; routes
        added to `router` later are served too (see covet.route_inclusion)."""
        options = IncludeOptions(
            prefix,
            list(tags or []),
            list(dependencies or []),
            dict(responses or {}),
            deprecated,
            include_in_schema,
            default_response_class,
            callbacks,
            generate_unique_id_function,
        )
        _include(self, router, options)

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Serves any ASGI application under `path` (a Starlette or FastAPI app, static files...)."""
        self.routes.append(Mount(self.prefix + path, app, name=name))
        self._mark_routes_changed()

    def frontend(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: str | None = "auto",
        check_dir: bool | str = "auto",
    ) -> None:
        """Serves a built frontend under `path` for requests no route matches (see covet.frontend)."""
        built = Frontend(path, directory=directory, fallback=fallback, check_dir=check_dir)
        self._low_priority_routes.append(built.included(self.prefix, self.dependencies))
        self._mark_routes_changed()

    @property
    def _frontend_routes(self) -> FrontendRoutes | None:
        """The frontends declared here, as routes (FastAPI's name; see covet.frontend_routes)."""
        own = [route for route in self._low_priority_routes if isinstance(route, Frontend)]
        return FrontendRoutes(self, own) if own else None


class WebhookRoute(APIRoute):
    """A route of `app.webhooks`: documented under the document's `webhooks`, never served."""

    documentation_only = True


class APIRouter(RouteRegistry, RouterObjectAPI):
    """A group of routes with a common prefix, tags, dependencies and documented responses."""

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        default_response_class: type[Response] | None = None,
        callbacks: list[Any] | None = None,
        routes: list[Any] | None = None,
        redirect_slashes: bool = True,
        default: Any = None,
        dependency_overrides_provider: Any = None,
        route_class: type[APIRoute] = APIRoute,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        strict_content_type: bool | None = None,
    ) -> None:
        check_prefix(prefix, "A router prefix")
        self.prefix = prefix
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.responses = dict(responses or {})
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self._response_class_set = default_response_class
        self.default_response_class = default_response_class or JSONResponse
        self.routes: list[Any] = list(routes or [])
        self.callbacks = list(callbacks or [])
        self.redirect_slashes = redirect_slashes
        self.default = default
        self.dependency_overrides_provider = dependency_overrides_provider
        self.route_class = route_class
        self.generate_unique_id_function = generate_unique_id_function
        self.strict_content_type = strict_content_type
        # Brought to the app that includes this router (see `covet.router_options`).
        self.on_startup_handlers = list(on_startup or [])
        self.on_shutdown_handlers = list(on_shutdown or [])
        self.lifespan = lifespan
        self.router_lifespans: list[Any] = []

    @property
    def on_startup(self) -> list[Callable[[], Any]]:
        return self.on_startup_handlers

    @property
    def on_shutdown(self) -> list[Callable[[], Any]]:
        return self.on_shutdown_handlers

    def add_event_handler(self, event: str, func: Callable[[], Any]) -> None:
        self.on_event(event)(func)


# Starlette's `Router` (a list of routes) is an `APIRouter` here.
Router = APIRouter
