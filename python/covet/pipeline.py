"""The request pipeline: the one path from a parsed request to its response, compiled from an
app's declarations by `Covet.compile()`.

covet's own server (the engine calls `spawn` for a request that continues in Python), the
ASGI adapter (covet.asgi) and the TestClient (which drives the engine in memory) all go through
a `Pipeline`: engine middleware (`policy`), then ASGI middleware (`asgi_stack`), then request
middleware (`request_chain`), then the router and the route. Lower layers (routes, mounts, the
ASGI adapter) are handed the pipeline or its `Runtime` rather than reaching into the app, so the
app's private state stays the app's (docs/architecture.md, "The Python layers").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from covet import _engine
from covet.debug import debug_response
from covet.encoders import json_default
from covet.error_handlers import call_handler, handler_for
from covet.exceptions import HTTPException, InvalidResponseHeader, ServiceUnavailable
from covet.frontend import serve_frontend
from covet.hooks import RequestHooks, run_with_hooks
from covet.logtext import printable
from covet.middleware.asgi import asgi_bridge, build_asgi_stack, is_asgi_middleware, websocket_bridge
from covet.middleware.engine import compile_policy
from covet.middleware.telemetry import structured_access_log
from covet.mounts import Mount
from covet.requests import ClientDisconnect, Request
from covet.responses import PlainTextResponse, RedirectResponse, Response, send_to_engine
from covet.route_fast_path import _fast_body
from covet.route_inclusion import compile_routes
from covet.route_matching import Match
from covet.routing import APIRoute
from covet.websocket_routing import WEBSOCKET_METHOD, APIWebSocketRoute

if TYPE_CHECKING:
    from covet.applications import Covet

__all__ = ["Pipeline", "Runtime"]

logger = logging.getLogger("covet.error")

CallNext = Callable[[Request], Awaitable[Response]]


class Runtime:
    """What outlives one compiled pipeline: the tasks in flight (requests continuing in Python,
    WebSocket endpoints), which shutdown waits for, and where unhandled errors are reported (the
    TestClient re-raises them in the test)."""

    __slots__ = ("tasks", "draining", "_sink")

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        #: Set when the server was told to stop (SIGTERM): readiness probes fail from then on.
        self.draining = False
        self._sink: list[BaseException] | None = None

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Runs `coro` as a Task of the running loop, tracked until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def report(self, exc: BaseException) -> None:
        """An error that was logged and answered (500, 1011...): also kept for a collector."""
        if self._sink is not None:
            self._sink.append(exc)

    @contextlib.contextmanager
    def collecting(self, sink: list[BaseException]) -> Iterator[None]:
        """Errors reported inside the block are appended to `sink`."""
        previous, self._sink = self._sink, sink
        try:
            yield
        finally:
            self._sink = previous


class Pipeline:
    """An app's request path, compiled once from its routes, middleware and handlers (and again
    after they change). Route conflicts and bad middleware options raise when it is built."""

    def __init__(self, app: Covet, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        #: The engine's router over the served routes (`compiled.served`: `app.routes` with
        #: included routers' routes in place of the inclusions, then the low-priority ones).
        self.router, self.compiled = compile_routes(app)
        python_middleware, self.policy = compile_policy(app, app.user_middleware)
        asgi_middleware = [decl for decl in python_middleware if is_asgi_middleware(decl.cls)]
        request_middleware = [decl for decl in python_middleware if not is_asgi_middleware(decl.cls)]
        #: Pure ASGI middleware wrapped around the request path (None when there are none).
        self.asgi_stack = build_asgi_stack(self, asgi_middleware) if asgi_middleware else None
        #: Per served route, the request hooks of the routers it is served through (covet.hooks).
        self.route_hooks: dict[int, tuple[RequestHooks, ...]] = {
            index: route.hook_groups
            for index, route in enumerate(self.compiled.served)
            if getattr(route, "hook_groups", None)
        }
        app_hooks = app.request_hooks
        #: The router and the route (`route_request`), inside the app's request hooks if any.
        self.dispatch: CallNext = self.route_request
        if app_hooks:
            self.dispatch = self._hooked(app_hooks)
        #: `dispatch`, wrapped in the request middleware (None when there are none).
        self.request_chain: CallNext | None = None
        if request_middleware:
            call: CallNext = self.dispatch
            for decl in reversed(request_middleware):
                instance = decl.cls(app, *decl.args, **decl.kwargs)
                call = _bind_middleware(instance.dispatch, call)
            self.request_chain = call
        #: What a request goes through before the router, if anything (Python middleware; the
        #: request hooks, which keep every request off the engine's fast paths).
        self.chain = asgi_bridge(self.asgi_stack) if self.asgi_stack is not None else self.request_chain
        if self.chain is None and (app_hooks or self.route_hooks):
            self.chain = self.dispatch

    def _hooked(self, hooks: RequestHooks) -> CallNext:
        async def call(request: Request) -> Response:
            return await run_with_hooks((hooks,), request, self.route_request, self._hook_error)

        return call

    async def _hook_error(self, request: Request, exc: Exception) -> tuple[Response, bool]:
        """An exception inside the request hooks: its handler's response, else the 500 (and
        True: the teardown hooks see it)."""
        handler = self.handler_for(exc)
        if handler is not None:
            try:
                return await call_handler(handler, request, exc), False
            except Exception as err:
                exc = err
        return await self.server_error(request, exc), True

    # --- covet's own server -------------------------------------------------------------------

    def engine_server(self, **config: Any) -> Any:
        """The engine's per-worker server state (the asyncio protocol factory) for this pipeline."""
        # The engine's plain access line, unless covet.logs.request_logging writes a fuller one.
        access_log = config.pop("access_log", False) and not structured_access_log(self.app)
        server = _engine.Server(
            self.router,
            self.spawn,
            Response,
            json_default,
            _log_refused,
            _log_access if access_log else None,
            **config,
        )
        server.set_tasks(self.runtime.tasks)
        server.set_endpoints([self._engine_entry(route) for route in self.compiled.served])
        server.set_policy(self.policy)
        if "covet.jwt.auth" in sys.modules:  # a JWTAuth can only exist once its module is loaded
            from covet.jwt.guard import route_guards

            server.set_guards(route_guards(self.app, self.compiled.served, self.chain is not None))
        if self.chain is None:  # Python HTTP middleware must see requests to static mounts
            from covet.staticfiles import engine_static_mounts

            server.set_static(engine_static_mounts(self.compiled.served))
        server.set_response_caches(
            [(i, route.cache.engine) for i, route in enumerate(self.compiled.served) if getattr(route, "cache", None)]
        )
        server.set_native_errors(self._native_errors())
        for hook in self.app.server_hooks:
            hook(server)
        return server

    def _native_errors(self) -> bool:
        """The engine may answer 404/405 itself: nothing in Python would answer them otherwise."""
        custom = {404, 405, HTTPException}
        if self.chain is not None or custom.intersection(self.app.exception_handlers):
            return False
        # A path no compiled route matches may still be served in Python.
        compiled = self.compiled
        return not (compiled.frontends or compiled.low is not None or compiled.custom)

    def _engine_entry(self, route: Any) -> _engine.EndpointSpec:
        """The engine's endpoint table entry for a route: `inline` runs a coroutine that cannot
        suspend to its end in the engine, `task` lets the engine run one that can as a Task of
        its own (nothing to solve in Python), `fast` lets the engine build simple arguments
        itself, `convert` applies a response model, `shape` lets the engine check a list/dict/Any
        model itself, `text` is the content-type for a `str` returned for a text response class.
        Mounts go to Python."""
        app = self.app
        if isinstance(route, Mount):
            return _engine.EndpointSpec(route.websocket_call(app, self.runtime))
        if isinstance(route, APIWebSocketRoute) or getattr(route, "methods", None) == {WEBSOCKET_METHOD}:
            if self.asgi_stack is not None:
                return _engine.EndpointSpec(websocket_bridge(self.asgi_stack, app, self.runtime))
            return _engine.EndpointSpec(route.engine_call(app, self.runtime))
        inline_ok = self.chain is None
        fast = None
        if route.fast_args is not None:
            body = _fast_body(route.dependant)
            fast = _engine.FastSpec(
                route.endpoint,
                route.fast_args,
                body=None if body is None else body[0],
                validate_body=None if body is None else body[1],
            )
        return _engine.EndpointSpec(
            route.engine_call(app),
            noarg=route.noarg,
            inline=inline_ok and route.inline,
            task=inline_ok and route.task,
            status=route.status_code or 200,
            fast=fast,
            convert=route.to_response if route.convert else None,
            shape=route.response_shape,
            text=route.text_type,
        )

    def spawn(self, conn: Any, raw: Any, exc: BaseException | None, response: Response | None) -> None:
        """Called by the engine: this request continues in Python, as a Task."""
        self.runtime.start(self.serve(conn, raw, exc, response))

    async def serve(self, conn: Any, raw: Any, exc: BaseException | None, response: Response | None) -> None:
        """One request on an engine connection: `response` when the engine ran the handler and
        Python only has to send it, `exc` when the handler it ran raised."""
        try:
            request = Request(raw, self.app)
            if response is None:
                if exc is None:
                    response = await self.handle(request)
                else:
                    response = await self.handle_error(request, exc)
            try:
                await response.prepare(raw.method, raw.raw_headers)
            except Exception as err:
                response = await self.server_error(request, err)
            try:
                try:
                    await send_to_engine(response, conn)
                except InvalidResponseHeader as err:  # nothing was sent: answer 500 instead
                    response = await self.server_error(request, err)
                    await send_to_engine(response, conn)
            except Exception as err:
                logger.exception("Error while sending the response to %s %s", raw.method, printable(raw.path))
                self.runtime.report(err)
                conn.abort()
                await self.finish(request)
                return
            # As in FastAPI: background tasks, then the clean-up of `yield` dependencies.
            if response.background is not None:
                await self.run_background(response)
            await self.finish(request)
        except Exception as err:  # a bug in covet itself: still answer the client
            logger.exception("Unexpected error serving %s %s", raw.method, printable(raw.path))
            self.runtime.report(err)
            conn.abort()
        finally:
            conn.request_done()

    # --- every server ---------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """The response to `request`: through the Python middleware, the router and the route;
        an exception becomes its handler's response, or a 500."""
        try:
            if self.chain is not None:
                return await self.chain(request)
            return await self.dispatch(request)
        except ServiceUnavailable as exc:  # a backend a middleware needs is down: 503, not 500
            return await self.handle_error(request, exc)
        except Exception as exc:
            return await self.server_error(request, exc)

    async def route_request(self, request: Request) -> Response:
        """The router and the route, with the app's exception handlers (inside the middleware)."""
        try:
            return await self._route(request)
        except Exception as exc:
            handler = self.handler_for(exc)
            if handler is None:
                raise
            return await call_handler(handler, request, exc)

    async def _route(self, request: Request) -> Response:
        raw = request._raw
        index = raw.endpoint
        if index is None:
            outcome, index, extra, _ = self.router.lookup(raw.method, raw.path)
            if outcome == _engine.NOT_FOUND:
                return await self._route_low_priority(request)
            if outcome == _engine.METHOD_NOT_ALLOWED:
                raise HTTPException(405, headers={"Allow": extra})
            if outcome == _engine.REDIRECT:
                query = raw.query_string
                return RedirectResponse(extra + ("?" + query.decode("latin-1") if query else ""))
            if outcome == _engine.MOUNT:
                return await self._call_route(index, request, extra[0])
            request.path_params = extra
        return await self._call_route(index, request)

    async def _call_route(self, index: int, request: Request, *args: Any) -> Response:
        """The served route `index`, inside its routers' request hooks if any."""
        route = self.compiled.served[index]
        hooks = self.route_hooks.get(index) if self.route_hooks else None
        if hooks is None:
            return await route.serve(request, *args)  # type: ignore[no-any-return]

        async def call(request: Request) -> Response:
            return await route.serve(request, *args)  # type: ignore[no-any-return]

        return await run_with_hooks(hooks, request, call, self._hook_error)

    async def _route_low_priority(self, request: Request) -> Response:
        """A path no compiled route matches: the app's own route objects (`BaseRoute`), the
        low-priority routes, then the frontends, else 404."""
        compiled = self.compiled
        for route in compiled.custom:
            match, child = route.matches(request.scope)
            if match != Match.NONE:
                return await Mount("", _with_child_scope(route, child, self.app)).serve(request, "")
        low, raw = compiled.low, request._raw
        if low is not None:
            outcome, index, extra, _ = low.lookup(raw.method, raw.path)
            if outcome == _engine.FOUND:
                request.path_params = extra
                return await self._call_route(index, request)
            if outcome == _engine.METHOD_NOT_ALLOWED:
                raise HTTPException(405, headers={"Allow": extra})
        if compiled.frontends:
            return await self.serve_frontends(compiled.frontends, request)
        raise HTTPException(404)

    async def serve_frontends(self, frontends: Any, request: Request) -> Response:
        """The longest-prefix frontend's answer (its dependencies solved as for any route)."""
        return await serve_frontend(frontends, request, APIRoute)

    def handler_for(self, exc: Exception) -> Callable[..., Any] | None:
        """The app's exception handler for `exc`, else covet's default one, else None."""
        return handler_for(self.app.exception_handlers, exc)

    async def handle_error(self, request: Request, exc: BaseException) -> Response:
        """An exception raised by a handler the engine ran inline, or by a middleware."""
        if isinstance(exc, Exception):
            handler = self.handler_for(exc)
            if handler is not None:
                try:
                    return await call_handler(handler, request, exc)
                except Exception as err:
                    exc = err
            return await self.server_error(request, exc)
        raise exc

    async def server_error(self, request: Request, exc: BaseException) -> Response:
        """The answer to an exception nothing handled: logged, reported, then the app's 500
        handler, the debug page, or a plain 500."""
        if isinstance(exc, ClientDisconnect):
            # Nobody is left to answer; not a server error.
            logger.info("Client left during %s %s: %s", request.method, printable(request.path), exc)
            return PlainTextResponse("Client disconnected", status_code=400)
        if isinstance(exc, InvalidResponseHeader):
            # The traceback would show covet's send, not the handler: the message names the header.
            logger.error("Response to %s %s not sent: %s", request.method, printable(request.path), exc)
        else:
            logger.error("Exception in handler for %s %s", request.method, printable(request.path), exc_info=exc)
        self.runtime.report(exc)
        handlers = self.app.exception_handlers
        handler = handlers.get(500) or handlers.get(Exception)
        if handler is not None and isinstance(exc, Exception):
            try:
                return await call_handler(handler, request, exc)
            except Exception:
                logger.exception("The 500 handler itself failed")
        if self.app.debug:
            return await debug_response(request, exc, self.app.debug_console)
        return PlainTextResponse("Internal Server Error", status_code=500)

    async def run_background(self, response: Response) -> None:
        """The response's background tasks, after it was sent; a failure is logged and reported."""
        try:
            assert response.background is not None
            await response.background()
        except Exception as err:
            logger.exception("Background task failed")
            self.runtime.report(err)

    async def finish(self, request: Request) -> None:
        """After the response: `yield` dependencies clean up (seeing the handler's exception),
        upload files are closed."""
        try:
            await request.close()
        except Exception as err:
            logger.exception("Error while cleaning up after %s %s", request.method, printable(request.path))
            self.runtime.report(err)


def _bind_middleware(mw: Callable[[Request, CallNext], Awaitable[Response]], call_next: CallNext) -> CallNext:
    async def call(request: Request) -> Response:
        return await mw(request, call_next)

    return call


_access_logger = logging.getLogger("covet.access")
_server_logger = logging.getLogger("covet.server")


def _log_access(client: tuple[str, int] | None, method: str, target: str, version: str, status: int) -> None:
    where = f"{client[0]}:{client[1]}" if client else "-"
    fields = {"method": method, "path": target, "status": status, "client": where}
    _access_logger.info('%s - "%s %s HTTP/%s" %d', where, method, printable(target), version, status, extra=fields)


def _log_refused(status: int, detail: str, client: tuple[str, int] | None) -> None:
    where = f"{client[0]}:{client[1]}" if client else "-"
    _server_logger.warning("Refused a request from %s: %d %s", where, status, detail)


def _with_child_scope(route: Any, child: dict[str, Any], app: Any) -> Callable[..., Any]:
    """`route.handle` as an ASGI app seeing what its `matches` added to the scope (path
    parameters of a `Host`...), as Starlette's router applies it, and the app (its dependency
    overrides; a 404 or 405 raised for its exception handlers)."""

    async def handle(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope.update(child)
        scope["app"] = app
        await route.handle(scope, receive, send)

    return handle
