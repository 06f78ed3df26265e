"""`APIWebSocketRoute`: a WebSocket endpoint, and running it for one connection.

A route is analysed once, like an HTTP route: its `Dependant` says which path, query, header
and cookie values and which dependencies it takes, plus the `WebSocket` itself. It lives in
the same Rust router as HTTP routes, under a pseudo-method no HTTP request can carry, so an
upgrade finds it and a plain GET does not. The engine answers the protocol; Python runs the
endpoint once per connection (never per message).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from covet import _engine
from covet.asgi_scope import handshake_request, route_path
from covet.dependencies.analysis import get_dependant
from covet.dependencies.route_level import route_dependency as _route_dependency
from covet.dependencies.solve import RequestContext, close, solve
from covet.exceptions import RequestValidationError, WebSocketRequestValidationError
from covet.params import DependsParam
from covet.requests import Request
from covet.websockets import (
    ASGIChannel,
    EngineChannel,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
)

if TYPE_CHECKING:
    from covet.applications import Covet
    from covet.pipeline import Pipeline, Runtime

__all__ = ["APIWebSocketRoute", "WEBSOCKET_METHOD", "handle_websocket"]

logger = logging.getLogger("covet.error")

#: What WebSocket routes are registered under in the engine's router (see router::WEBSOCKET).
WEBSOCKET_METHOD = "@WEBSOCKET"


class APIWebSocketRoute:
    """A path bound to a WebSocket endpoint (FastAPI's `APIWebSocketRoute`).

    `origins`: when given, the handshake's `Origin` header must be one of them (or the
    app's `websocket_origins` apply); any other origin is refused with 403 before the
    endpoint runs. "*" allows any.
    """

    # What the engine's endpoint table reads of a route (see pipeline.Pipeline._engine_entry):
    # a WebSocket route is never inline and never has engine-built arguments.
    methods = frozenset({WEBSOCKET_METHOD})
    fast_args = None
    noarg = False
    inline = False
    task = False
    status_code = None
    convert = False
    response_shape = None
    text_type = None
    include_in_schema = False

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        origins: Sequence[str] | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"Route path {path!r} must start with '/'")
        self.path = path
        self.endpoint = endpoint
        self.name = name or getattr(endpoint, "__name__", type(endpoint).__name__)
        self.dependencies = list(dependencies or [])
        self.origins = list(origins) if origins is not None else None
        self.dependant = get_dependant(endpoint, path=path, endpoint=True)
        for dep in reversed(self.dependencies):
            self.dependant.dependencies.insert(0, _route_dependency(dep, path))

    def options(self) -> dict[str, Any]:
        return {"name": self.name, "dependencies": self.dependencies, "origins": self.origins}

    def engine_call(self, app: Covet, runtime: Runtime) -> Callable[[Any, Any], None]:
        """What the engine calls for an upgrade routed here: `call(connection, raw_request)`
        starts the endpoint as a Task of `runtime` on the worker's loop."""

        def call(conn: Any, raw: Any) -> None:
            websocket = WebSocket(Request(raw, app), EngineChannel(conn))
            runtime.start(self.run(websocket, runtime))

        return call

    def _origin_allowed(self, websocket: WebSocket) -> bool:
        allowed = self.origins
        if allowed is None:
            allowed = getattr(websocket.app, "websocket_origins", None)
        if allowed is None or "*" in allowed:
            return True
        return websocket.headers.get("origin") in allowed

    async def run(self, websocket: WebSocket, runtime: Runtime | None = None) -> None:
        """Runs the endpoint for one connection: parameters and dependencies first (a
        validation failure closes with 1008, which refuses the handshake), then the handler;
        whatever it leaves open is closed (1000, or 1011 after an exception). An unhandled
        error is reported to `runtime`."""
        app = websocket.app
        ctx = RequestContext(
            websocket,  # type: ignore[arg-type]
            getattr(app, "dependency_overrides", None) or {},
            getattr(app, "analysed_overrides", {}),
        )
        error: BaseException | None = None
        try:
            if not self._origin_allowed(websocket):
                logger.warning("Refused a WebSocket from origin %r on %s", websocket.headers.get("origin"), self.path)
                await websocket.close(1008, "Origin not allowed")
                return
            try:
                kwargs = await solve(self.dependant, ctx)
            except RequestValidationError as exc:
                raise WebSocketRequestValidationError(exc.errors(), endpoint_ctx=exc.endpoint_ctx) from None
            await self.endpoint(**kwargs)
        except WebSocketDisconnect:
            pass
        except Exception as exc:
            ctx.exc = exc
            try:
                await _handle_error(websocket, exc)
            except Exception as unhandled:
                logger.error("Exception in WebSocket handler for %s", self.path, exc_info=unhandled)
                error = ctx.exc = unhandled
                # An ASGI channel re-raises it before the handshake is accepted: whoever it
                # reaches (ASGI middleware, the server) deals with it, not covet.
                reraised = isinstance(websocket._channel, ASGIChannel) and not websocket._channel._accepted
                if runtime is not None and not reraised:
                    runtime.report(unhandled)
        finally:
            try:
                if ctx.handler_stack is not None:  # Depends(scope="function"): leaves first
                    await ctx.leave_handler(ctx.exc)
                await close(ctx)
            finally:
                await websocket._channel.finish(error)

    def __repr__(self) -> str:
        return f"APIWebSocketRoute(path={self.path!r}, name={self.name!r})"


async def _handle_error(websocket: WebSocket, exc: Exception) -> None:
    """The app's exception handler for `exc` (by class, as Starlette looks them up for
    WebSockets: `handler(websocket, exc)`), else covet's defaults: 1008 with the validation
    errors, a WebSocketException's own code. Anything else is re-raised (closed 1011)."""
    handlers = getattr(websocket.app, "exception_handlers", None) or {}
    for cls in type(exc).__mro__:
        if cls in handlers and cls not in (Exception, BaseException):
            result = handlers[cls](websocket, exc)  # type: ignore[index]
            if inspect.isawaitable(result):
                await result
            return
    if isinstance(exc, WebSocketRequestValidationError):
        await websocket.close(1008, json.dumps(exc.errors(), default=str)[:123])
    elif isinstance(exc, WebSocketException):
        await websocket.close(exc.code, exc.reason)
    else:
        raise exc


async def handle_websocket(pipeline: Pipeline, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A `websocket` scope under an ASGI server: the same router and the same route runner."""
    path, raw_path = route_path(scope)
    routes = pipeline.compiled.served
    outcome, index, params, _ = pipeline.router.lookup(WEBSOCKET_METHOD, path)
    if outcome == _engine.MOUNT:
        mounted = dict(scope)
        mounted["root_path"] = scope.get("root_path", "") + params[0]
        await routes[index].app(mounted, receive, send)
        return
    route = routes[index] if outcome == _engine.FOUND else None
    channel = ASGIChannel(receive, send, scope.get("subprotocols") or ())
    if not isinstance(route, APIWebSocketRoute):
        await channel.close(1000, "")  # refused: the server answers 403
        return
    raw = handshake_request(scope, path, raw_path, index, params)
    await route.run(WebSocket(Request(raw, pipeline.app), channel), pipeline.runtime)
