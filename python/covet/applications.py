"""`Covet`, the application: routes, error handling, middleware and lifecycle.

The same object serves three ways: from covet's own Rust server (`covet run`), as an ASGI 3
app (uvicorn, hypercorn, granian), and from `TestClient`. All three use one routing table (the
engine's Rust router) and one request path (`_handle_request`).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import logging
import math
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from covet import _engine
from covet.asgi import handle_asgi
from covet.datastructures import State
from covet.debug import debug_response
from covet.encoders import json_default
from covet.exceptions import HTTPException, InvalidResponseHeader, RequestValidationError, ServiceUnavailable
from covet.frontend import serve_frontend
from covet.logtext import printable
from covet.middleware import BaseHTTPMiddleware
from covet.middleware import Middleware as MiddlewareDecl
from covet.middleware.asgi import asgi_bridge, build_asgi_stack, is_asgi_middleware, websocket_bridge
from covet.middleware.engine import compile_policy, is_engine_middleware
from covet.mounts import Mount
from covet.params import DependsParam
from covet.requests import ClientDisconnect, Request
from covet.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, send_to_engine
from covet.router_options import (
    apply_app_options,
    explicit_head_paths,
    head_routes_first,
    merged_lifespan,
    served_methods,
)
from covet.routing import F, RouteRegistry, _fast_body
from covet.websocket_routing import WEBSOCKET_METHOD

__all__ = ["Covet"]

logger = logging.getLogger("covet.error")

ExceptionHandler = Callable[[Request, Exception], Any]
CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]
Lifespan = Callable[["Covet"], contextlib.AbstractAsyncContextManager[Any]]


class Covet(RouteRegistry):
    """A covet application. FastAPI's constructor arguments that exist here mean the same."""

    def __init__(
        self,
        *,
        debug: bool = False,
        title: str = "Covet",
        version: str = "0.1.0",
        description: str = "",
        lifespan: Lifespan | None = None,
        on_startup: list[Callable[[], Any]] | None = None,
        on_shutdown: list[Callable[[], Any]] | None = None,
        exception_handlers: dict[int | type[Exception], ExceptionHandler] | None = None,
        redirect_slashes: bool = True,
        dependencies: Sequence[DependsParam] | None = None,
        default_response_class: type[Response] = JSONResponse,
        summary: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        separate_input_output_schemas: bool = True,
        middleware: Sequence[MiddlewareDecl] | None = None,
        websocket_origins: Sequence[str] | None = None,
        routes: Sequence[Any] | None = None,
        root_path: str = "",
        root_path_in_servers: bool = True,
        openapi_prefix: str = "",
        openapi_external_docs: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        webhooks: Any = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        strict_content_type: bool = True,
    ) -> None:
        self.debug = debug
        self.title = title
        self.version = version
        self.description = description
        self.summary = summary
        self.routes: list[Any] = []
        self.tags: list[Any] = []
        self.dependencies = list(dependencies or [])
        self.responses = dict(responses or {})
        self.default_response_class = default_response_class
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._analysed_overrides: dict[Any, Any] = {}
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.openapi_tags = openapi_tags
        self.servers = servers
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.openapi_schema: dict[str, Any] | None = None
        self.separate_input_output_schemas = separate_input_output_schemas
        self._docs_added = False
        self.state = State()
        self.lifespan = lifespan
        self.on_startup_handlers = list(on_startup or [])
        self.on_shutdown_handlers = list(on_shutdown or [])
        # Called with each engine server built for this app (covet.metrics counts there).
        self.server_hooks: list[Callable[[Any], None]] = []
        self.exception_handlers: dict[int | type[Exception], ExceptionHandler] = dict(exception_handlers or {})
        # Declarations, outermost first (Starlette's order: the last added is the outermost).
        self.user_middleware: list[MiddlewareDecl] = list(middleware or [])
        self.redirect_slashes = redirect_slashes
        # Origins a WebSocket handshake may come from (None: any); routes may set their own.
        self.websocket_origins = list(websocket_origins) if websocket_origins is not None else None
        self._router: Any = None
        self._chain: CallNext | None = None
        # Pure ASGI middleware (covet.middleware.asgi): the stack, and the request middleware
        # chain inside it (None when there are none).
        self._asgi_stack: Any = None
        self._request_chain: CallNext | None = None
        # Engine middleware compiled for Rust (covet._engine.Policy), or None.
        self._policy: Any = None
        self._lifespan_cm: contextlib.AbstractAsyncContextManager[Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # TestClient collects unhandled exceptions here to re-raise them in the test.
        self._error_sink: list[BaseException] | None = None
        apply_app_options(
            self,
            routes=routes,
            root_path=root_path or openapi_prefix,
            root_path_in_servers=root_path_in_servers,
            openapi_external_docs=openapi_external_docs,
            callbacks=callbacks,
            webhooks=webhooks,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
            strict_content_type=strict_content_type,
        )
        # FastAPI adds its docs routes in its constructor: after `routes=`, before the rest.
        self._docs_at = len(self.routes)

    # --- declaration ---------------------------------------------------------------------

    def _routes_changed(self) -> None:
        self._router = None
        self.openapi_schema = None

    def exception_handler(self, exc_or_status: int | type[Exception]) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_exception_handler(exc_or_status, func)
            return func

        return decorator

    def add_exception_handler(self, exc_or_status: int | type[Exception], handler: ExceptionHandler) -> None:
        self.exception_handlers[exc_or_status] = handler
        self._router = None

    def middleware(self, kind: str) -> Callable[[F], F]:
        """`@app.middleware("http")`: `async def mw(request, call_next) -> Response`."""
        if kind != "http":
            raise ValueError(f'Only "http" middleware is supported, not {kind!r}')

        def decorator(func: F) -> F:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def add_middleware(self, cls: type[Any], *args: Any, **kwargs: Any) -> None:
        """Wrap the app in `cls(app, *args, **kwargs)`; the last added runs first."""
        if is_engine_middleware(cls):
            cls(self, *args, **kwargs)  # the engine checks the options now
        self.user_middleware.insert(0, MiddlewareDecl(cls, *args, **kwargs))
        self._router = None

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        return self.engine_router.url_path_for(name, path_params)

    # --- compiled state --------------------------------------------------------------------

    @property
    def engine_router(self) -> Any:
        """The engine's router, built from `routes` on first use; route conflicts raise here."""
        if self._router is None:
            self._add_docs_routes()
            router = _engine.Router(self.redirect_slashes)
            heads = explicit_head_paths(self.routes)
            for index, route in head_routes_first(self.routes):
                if isinstance(route, Mount):
                    router.mount(route.path, index, route.name)
                else:
                    router.add(route.path, sorted(served_methods(route, heads)), index, route.name)
            self._chain = self._build_chain()
            self._router = router
        return self._router

    def _build_chain(self) -> CallNext | None:
        python_middleware, self._policy = compile_policy(self, self.user_middleware)
        asgi_middleware = [decl for decl in python_middleware if is_asgi_middleware(decl.cls)]
        python_middleware = [decl for decl in python_middleware if not is_asgi_middleware(decl.cls)]
        self._asgi_stack = build_asgi_stack(self, asgi_middleware) if asgi_middleware else None
        self._request_chain = None
        if python_middleware:
            call: CallNext = self._dispatch
            for decl in reversed(python_middleware):
                instance = decl.cls(self, *decl.args, **decl.kwargs)
                call = _bind_middleware(instance.dispatch, call)
            self._request_chain = call
        if self._asgi_stack is not None:
            return asgi_bridge(self._asgi_stack)
        return self._request_chain

    def _native_errors(self) -> bool:
        custom = {404, 405, HTTPException}
        return self._chain is None and not custom.intersection(self.exception_handlers) and not self.frontends

    def engine_server(self, **config: Any) -> Any:
        """The engine's per-worker server state (the asyncio protocol factory)."""
        access_log = config.pop("access_log", False)
        server = _engine.Server(
            self.engine_router,
            self._spawn,
            Response,
            json_default,
            _log_refused,
            _log_access if access_log else None,
            **config,
        )
        inline_ok = self._chain is None
        server.set_tasks(self._tasks)
        server.set_endpoints([_engine_entry(route, self, inline_ok) for route in self.routes])
        server.set_policy(self._policy)
        if "covet.jwt.auth" in sys.modules:  # a JWTAuth can only exist once its module is loaded
            from covet.jwt.guard import route_guards

            server.set_guards(route_guards(self))
        server.set_native_errors(self._native_errors())
        for hook in self.server_hooks:
            hook(server)
        return server

    # --- request path ------------------------------------------------------------------------

    def _spawn(self, conn: Any, raw: Any, exc: BaseException | None, response: Response | None) -> None:
        """Called by the engine: this request continues in Python, as a Task."""
        task = asyncio.get_running_loop().create_task(self._serve(conn, raw, exc, response))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, conn: Any, raw: Any, exc: BaseException | None, response: Response | None) -> None:
        try:
            request = Request(raw, self)
            if response is None:
                if exc is None:
                    response = await self._handle_request(request)
                else:
                    response = await self._handle_error(request, exc)
            try:
                await response.prepare()
            except Exception as err:
                response = await self._server_error(request, err)
            try:
                try:
                    await send_to_engine(response, conn)
                except InvalidResponseHeader as err:  # nothing was sent: answer 500 instead
                    response = await self._server_error(request, err)
                    await send_to_engine(response, conn)
            except Exception as err:
                logger.exception("Error while sending the response to %s %s", raw.method, printable(raw.path))
                self._collect(err)
                conn.abort()
                await self._finish_request(request)
                return
            # As in FastAPI: background tasks, then the clean-up of `yield` dependencies.
            if response.background is not None:
                await self._run_background(response)
            await self._finish_request(request)
        except Exception as err:  # a bug in covet itself: still answer the client
            logger.exception("Unexpected error serving %s %s", raw.method, printable(raw.path))
            self._collect(err)
            conn.abort()
        finally:
            conn.request_done()

    async def _finish_request(self, request: Request) -> None:
        """After the response: `yield` dependencies clean up (seeing the handler's exception),
        upload files are closed."""
        try:
            await request.close()
        except Exception as err:
            logger.exception("Error while cleaning up after %s %s", request.method, printable(request.path))
            self._collect(err)

    async def _run_background(self, response: Response) -> None:
        try:
            assert response.background is not None
            await response.background()
        except Exception as err:
            logger.exception("Background task failed")
            self._collect(err)

    async def _handle_request(self, request: Request) -> Response:
        self.engine_router  # noqa: B018 - builds the chain on first use
        try:
            if self._chain is not None:
                return await self._chain(request)
            return await self._dispatch(request)
        except ServiceUnavailable as exc:  # a backend a middleware needs is down: 503, not 500
            return await self._handle_error(request, exc)
        except Exception as exc:
            return await self._server_error(request, exc)

    async def _dispatch(self, request: Request) -> Response:
        try:
            return await self._route(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            return await _call_handler(handler, request, exc)

    async def _route(self, request: Request) -> Response:
        raw = request._raw
        index = raw.endpoint
        if index is None:
            outcome, index, extra, _ = self.engine_router.lookup(raw.method, raw.path)
            if outcome == _engine.NOT_FOUND:
                if self.frontends:
                    return await serve_frontend(self.frontends, request)
                raise HTTPException(404)
            if outcome == _engine.METHOD_NOT_ALLOWED:
                raise HTTPException(405, headers={"Allow": extra})
            if outcome == _engine.REDIRECT:
                query = raw.query_string
                return RedirectResponse(extra + ("?" + query.decode("latin-1") if query else ""))
            if outcome == _engine.MOUNT:
                return await self.routes[index].handle(request, extra[0])
            request.path_params = extra
        return await self.routes[index].handle(request)

    async def _handle_error(self, request: Request, exc: BaseException) -> Response:
        """An exception raised by a handler the engine ran inline."""
        if isinstance(exc, Exception):
            handler = self._handler_for(exc)
            if handler is not None:
                try:
                    return await _call_handler(handler, request, exc)
                except Exception as err:
                    exc = err
            return await self._server_error(request, exc)
        raise exc

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        handlers = self.exception_handlers
        status = _carried_status(exc)
        if status is not None and status in handlers:
            return handlers[status]
        for cls in type(exc).__mro__:
            if cls in handlers and cls is not Exception:
                return handlers[cls]  # type: ignore[index]
        if isinstance(exc, HTTPException):
            return _http_exception_handler
        if status is not None:
            return _status_exception_handler
        if isinstance(exc, RequestValidationError):
            return _validation_error_handler
        return None

    async def _server_error(self, request: Request, exc: BaseException) -> Response:
        if isinstance(exc, ClientDisconnect):
            # Nobody is left to answer; not a server error.
            logger.info("Client left during %s %s: %s", request.method, printable(request.path), exc)
            return PlainTextResponse("Client disconnected", status_code=400)
        if isinstance(exc, InvalidResponseHeader):
            # The traceback would show covet's send, not the handler: the message names the header.
            logger.error("Response to %s %s not sent: %s", request.method, printable(request.path), exc)
        else:
            logger.error("Exception in handler for %s %s", request.method, printable(request.path), exc_info=exc)
        self._collect(exc)
        handler = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
        if handler is not None and isinstance(exc, Exception):
            try:
                return await _call_handler(handler, request, exc)
            except Exception:
                logger.exception("The 500 handler itself failed")
        if self.debug:
            return debug_response(request, exc)
        return PlainTextResponse("Internal Server Error", status_code=500)

    def _collect(self, exc: BaseException) -> None:
        if self._error_sink is not None:
            self._error_sink.append(exc)

    # --- OpenAPI ---------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, generated once; assign `app.openapi = func` to replace it."""
        if self.openapi_schema is None:
            from covet.openapi.utils import get_openapi

            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                summary=self.summary,
                description=self.description,
                routes=self.routes,
                tags=self.openapi_tags,
                separate_input_output_schemas=self.separate_input_output_schemas,
                servers=self.servers,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
                webhooks=self.webhooks.routes,
                external_docs=self.openapi_external_docs,
            )
        return self.openapi_schema

    def _add_docs_routes(self) -> None:
        if self._docs_added:
            return
        self._docs_added = True
        from covet.openapi import add_openapi_routes

        # Added late (the URLs may be changed after construction) but placed where FastAPI
        # has them, so a catch-all route declared later never answers `/openapi.json`.
        end = len(self.routes)
        add_openapi_routes(self)
        docs = self.routes[end:]
        del self.routes[end:]
        at = min(self._docs_at, end)
        self.routes[at:at] = docs

    # --- lifecycle -------------------------------------------------------------------------

    async def startup(self) -> None:
        """Runs startup hooks and enters the lifespan context; builds the routing table."""
        self.engine_router  # noqa: B018 - route conflicts are reported at startup
        for hook in self.on_startup_handlers:
            await _maybe_await(hook())
        if self.lifespan is not None or self._router_lifespans:
            self._lifespan_cm = merged_lifespan(self)
            state = await self._lifespan_cm.__aenter__()
            if isinstance(state, dict):
                self._lifespan_state = state
                for key, value in state.items():
                    setattr(self.state, key, value)

    async def shutdown(self) -> None:
        """Leaves the lifespan context and runs shutdown hooks, after in-flight work."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._lifespan_cm is not None:
            cm, self._lifespan_cm = self._lifespan_cm, None
            await cm.__aexit__(None, None, None)
        for hook in self.on_shutdown_handlers:
            await _maybe_await(hook())

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> int:
        """Serves this app from covet's engine in this process (Flask's `app.run()`); see
        `covet.server.run` for the options."""
        from covet.server import run

        return run(self, host, port, **options)

    # --- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await handle_asgi(self, scope, receive, send)


def _engine_entry(route: Any, app: Covet, inline_ok: bool) -> tuple[Any, ...]:
    """(call, noarg, inline, task, status, fast, convert, shape, text) for the engine's
    endpoint table: `inline` runs a coroutine that cannot suspend to its end in the engine,
    `task` lets the engine run one that can as a Task of its own (nothing to solve in Python),
    `fast` lets the engine build simple arguments itself, `convert` applies a response model,
    `shape` lets the engine check a list/dict/Any model itself, `text` is the content-type for
    a `str` returned for a text response class. Mounts go to Python."""
    if isinstance(route, Mount):
        return (route.websocket_call(app), False, False, False, 200, None, None, None, None)
    if app._asgi_stack is not None and getattr(route, "methods", None) == {WEBSOCKET_METHOD}:
        return (websocket_bridge(app), False, False, False, 200, None, None, None, None)
    fast = None
    if route.fast_args is not None:
        fast = (route.endpoint, route.fast_args, _fast_body(route.dependant))
    return (
        route.engine_call(app),
        route.noarg,
        inline_ok and route.inline,
        inline_ok and route.task,
        route.status_code or 200,
        fast,
        route.to_response if route.convert else None,
        route.response_shape,
        route.text_type,
    )


def _bind_middleware(mw: Middleware, call_next: CallNext) -> CallNext:
    async def call(request: Request) -> Response:
        return await mw(request, call_next)

    return call


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


async def _call_handler(handler: ExceptionHandler, request: Request, exc: Exception) -> Response:
    return await _maybe_await(handler(request, exc))  # type: ignore[no-any-return]


async def _http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _carried_status(exc: Exception) -> int | None:
    """The HTTP status an exception stands for: covet's `HTTPException`, or any exception with
    an int `status_code` from 400 to 599, as Starlette's and FastAPI's `HTTPException` (raised
    by a mounted Starlette app, `StaticFiles`, or code written for them) carry."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    status = getattr(exc, "status_code", None)
    if type(status) is int and 400 <= status <= 599:
        return status
    return None


async def _status_exception_handler(request: Request, exc: Exception) -> Response:
    """Another framework's HTTP exception: its status with covet's `{"detail": ...}` body."""
    status: int = exc.status_code  # type: ignore[attr-defined]
    detail = getattr(exc, "detail", None)
    if detail is None:
        detail = http.client.responses.get(status, "")
    headers = getattr(exc, "headers", None)
    if not isinstance(headers, Mapping):
        headers = None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _validation_error_handler(request: Request, exc: RequestValidationError) -> Response:
    try:
        return JSONResponse({"detail": exc.errors()}, status_code=422)
    except ValueError:  # an `input` JSON cannot hold: `1e999` parses as inf
        return JSONResponse({"detail": _finite(exc.errors())}, status_code=422)


def _finite(value: Any) -> Any:
    """`value` with inf and NaN floats as the strings pydantic writes for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


_access_logger = logging.getLogger("covet.access")
_server_logger = logging.getLogger("covet.server")


def _log_access(client: tuple[str, int] | None, method: str, target: str, version: str, status: int) -> None:
    where = f"{client[0]}:{client[1]}" if client else "-"
    _access_logger.info('%s - "%s %s HTTP/%s" %d', where, method, printable(target), version, status)


def _log_refused(status: int, detail: str, client: tuple[str, int] | None) -> None:
    where = f"{client[0]}:{client[1]}" if client else "-"
    _server_logger.warning("Refused a request from %s: %d %s", where, status, detail)
