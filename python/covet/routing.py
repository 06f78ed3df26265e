"""Routes, the route-registering decorators, and `APIRouter`.

A `Route` is analysed once, when it is registered: how its handler's arguments are filled, and
whether its coroutine can run inline on the engine (no `await` in its code) or needs a Task.
Matching itself happens in the engine's Rust router.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, get_type_hints

from covet.background import BackgroundTasks
from covet.concurrency import can_suspend, run_in_threadpool
from covet.exceptions import RequestValidationError
from covet.requests import Request
from covet.responses import JSONResponse, Response

__all__ = ["Route", "APIRouter"]

F = TypeVar("F", bound=Callable[..., Any])

_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_NO_DEFAULT = inspect.Parameter.empty


class Route:
    """One path + methods bound to a handler."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        status_code: int | None = None,
        response_class: type[Response] = JSONResponse,
        include_in_schema: bool = True,
        tags: list[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"Route path {path!r} must start with '/'")
        self.path = path
        self.endpoint = endpoint
        self.methods = {m.upper() for m in methods} if methods else {"GET"}
        if "GET" in self.methods:
            self.methods.add("HEAD")
        self.name = name or getattr(endpoint, "__name__", None)
        self.status_code = status_code or 200
        self.response_class = response_class
        self.include_in_schema = include_in_schema
        self.tags = tags or []
        self.summary = summary
        self.description = description
        self.is_async = _is_async(endpoint)
        self._args = _analyse(endpoint, set(_PARAM.findall(path)))
        self.noarg = not self._args
        # Background tasks are attached to the response afterwards, in Python.
        self._background = any(arg.source == "background" for arg in self._args)
        self.inline = self.is_async and not can_suspend(endpoint) and not self._background

    def engine_call(self, app: Any) -> Callable[..., Any]:
        """What the engine calls: the handler itself, or a function building its arguments
        from the engine's `RawRequest`."""
        if self.noarg:
            return self.endpoint
        endpoint, build = self.endpoint, self._build_kwargs

        def call(raw: Any) -> Any:
            return endpoint(**build(Request(raw, app)))

        return call

    async def handle(self, request: Request) -> Response:
        kwargs = self._build_kwargs(request) if self._args else {}
        if self.is_async:
            result = await self.endpoint(**kwargs)
        else:
            result = await run_in_threadpool(self.endpoint, **kwargs)
        response = self.to_response(result)
        if self._background:
            tasks = request.scope_extra.get("background")
            if tasks is not None and response.background is None:
                response.background = tasks
            elif tasks is not None:
                response.background = BackgroundTasks([response.background, tasks])
        return response

    def to_response(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return self.response_class(result, status_code=self.status_code)

    def _build_kwargs(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for arg in self._args:
            arg.fill(request, kwargs, errors)
        if errors:
            raise RequestValidationError(errors)
        return kwargs

    def __repr__(self) -> str:
        return f"Route(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class _Arg:
    """How one handler argument is filled. The typed-API layer replaces this with full plans."""

    __slots__ = ("name", "source", "convert", "default")

    def __init__(self, name: str, source: str, convert: Callable[[str], Any] | None, default: Any) -> None:
        self.name = name
        self.source = source
        self.convert = convert
        self.default = default

    def fill(self, request: Request, kwargs: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        if self.source == "request":
            kwargs[self.name] = request
            return
        if self.source == "background":
            kwargs[self.name] = request.scope_extra.setdefault("background", BackgroundTasks())
            return
        if self.source == "path":
            value: Any = request.path_params.get(self.name)
        else:
            value = request.query_params.get(self.name)
        if value is None:
            if self.default is _NO_DEFAULT:
                errors.append(
                    {"type": "missing", "loc": [self.source, self.name], "msg": "Field required", "input": None}
                )
            else:
                kwargs[self.name] = self.default
            return
        if self.convert is not None and isinstance(value, str):
            try:
                value = self.convert(value)
            except ValueError:
                kind, msg = _PARSE_ERRORS[self.convert]
                errors.append({"type": kind, "loc": [self.source, self.name], "msg": msg, "input": value})
                return
        kwargs[self.name] = value


def _to_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "on", "yes", "t", "y"):
        return True
    if lowered in ("0", "false", "off", "no", "f", "n"):
        return False
    raise ValueError(value)


_CONVERTERS: dict[Any, Callable[[str], Any]] = {int: int, float: float, bool: _to_bool}
# pydantic's error types and messages, which FastAPI clients see in 422 bodies.
_PARSE_ERRORS: dict[Callable[[str], Any], tuple[str, str]] = {
    int: ("int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
    float: ("float_parsing", "Input should be a valid number, unable to parse string as a number"),
    _to_bool: ("bool_parsing", "Input should be a valid boolean, unable to interpret input"),
}


def _analyse(endpoint: Callable[..., Any], path_names: set[str]) -> list[_Arg]:
    try:
        hints = get_type_hints(endpoint)
    except Exception:
        hints = {}
    args = []
    for param in inspect.signature(endpoint).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        hint = hints.get(param.name)
        if (isinstance(hint, type) and issubclass(hint, Request)) or (hint is None and param.name == "request"):
            args.append(_Arg(param.name, "request", None, _NO_DEFAULT))
            continue
        if isinstance(hint, type) and issubclass(hint, BackgroundTasks):
            args.append(_Arg(param.name, "background", None, _NO_DEFAULT))
            continue
        source = "path" if param.name in path_names else "query"
        args.append(_Arg(param.name, source, _CONVERTERS.get(hint), param.default))
    return args


def _is_async(endpoint: Callable[..., Any]) -> bool:
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return asyncio.iscoroutinefunction(endpoint) or asyncio.iscoroutinefunction(
        getattr(endpoint, "__call__", None)  # noqa: B004 - callable objects
    )


class RouteRegistry:
    """The decorators shared by `Covet` and `APIRouter` (`get`, `post`, ... `api_route`)."""

    routes: list[Route]
    prefix: str = ""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> Route:
        route = Route(self.prefix + path, endpoint, **options)
        self.routes.append(route)
        self._routes_changed()
        return route

    add_route = add_api_route

    def _routes_changed(self) -> None:
        pass

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

    def include_router(self, router: APIRouter, *, prefix: str = "") -> None:
        for route in router.routes:
            self.add_api_route(
                prefix + route.path,
                route.endpoint,
                methods=sorted(route.methods - {"HEAD"} if "GET" in route.methods else route.methods),
                name=route.name,
                status_code=route.status_code,
                response_class=route.response_class,
                include_in_schema=route.include_in_schema,
                tags=route.tags,
                summary=route.summary,
                description=route.description,
            )


class APIRouter(RouteRegistry):
    """A group of routes with a common prefix, included into an app with `include_router`."""

    def __init__(self, *, prefix: str = "", tags: list[str] | None = None) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("A router prefix must start with '/' and not end with '/'")
        self.prefix = prefix
        self.tags = tags or []
        self.routes: list[Route] = []
