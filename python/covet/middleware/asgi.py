"""Pure ASGI middleware (`cls(app, **options)` with `async __call__(scope, receive, send)`),
as Starlette takes them in `app.add_middleware`.

Such a class can only be run by speaking ASGI to it, so an app that has one is served
through it: covet's server bridges each request and WebSocket into the middleware stack
(as it does for a mounted ASGI app), and the stack's innermost app is covet's own request
path (request middleware, then the router). Apps without one never come here: the engine
keeps running their handlers inline.

Engine middleware (CORS, trusted hosts, rate limits...) still run first, in the engine;
`BaseHTTPMiddleware`-style request middleware run inside the ASGI ones.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from covet.asgi import read_http, respond_http
from covet.asgi_scope import raw_request
from covet.exceptions import ServiceUnavailable
from covet.mounts import Mount
from covet.requests import Request
from covet.responses import Response
from covet.websocket_routing import handle_websocket

if TYPE_CHECKING:
    from covet.applications import Covet
    from covet.pipeline import Pipeline, Runtime

__all__ = ["asgi_bridge", "build_asgi_stack", "is_asgi_middleware", "websocket_bridge"]

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

logger = logging.getLogger("covet.error")


def is_asgi_middleware(cls: Any) -> bool:
    """Request middleware have a `dispatch(request, call_next)`; anything else is ASGI."""
    return getattr(cls, "dispatch", None) is None


def build_asgi_stack(pipeline: Pipeline, declarations: Sequence[Any]) -> ASGIApp:
    """The declarations (outermost first) wrapped around covet's own request path."""
    inner: ASGIApp = functools.partial(_innermost, pipeline)
    for decl in reversed(declarations):
        inner = decl.cls(inner, *decl.args, **decl.kwargs)
    return inner


def asgi_bridge(stack: ASGIApp) -> Callable[[Request], Awaitable[Response]]:
    """The app's request chain on covet's server: the request goes through the stack as
    ASGI messages and its response streams back (the same bridge a `Mount` uses)."""
    mount = Mount("", stack)

    async def call(request: Request) -> Response:
        return await mount.serve(request, "")

    return call


def websocket_bridge(stack: ASGIApp, app: Covet, runtime: Runtime) -> Callable[[Any, Any], None]:
    """What the engine calls for a WebSocket upgrade on an app with ASGI middleware."""
    call = Mount("", stack).websocket_call(app, runtime)
    return lambda conn, raw: call(conn, raw, "")


async def _innermost(pipeline: Pipeline, scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await handle_websocket(pipeline, scope, receive, send)
        return
    if scope["type"] != "http":
        return  # lifespan is covet's own; other scopes have nothing to reach here
    try:
        read = await read_http(scope, receive)
    except Exception as exc:  # a middleware's `receive` raised (e.g. an HTTPException for a too-large body)
        request = Request(raw_request(scope, b""), pipeline.app)
        await (await _answer_error(pipeline, request, exc)).send_asgi(send, scope["method"] == "HEAD")
        return
    if read is not None:
        await respond_http(pipeline, scope, read[0], read[1], receive, send, functools.partial(_handle, pipeline))


async def _handle(pipeline: Pipeline, request: Request) -> Response:
    try:
        if pipeline.request_chain is not None:
            return await pipeline.request_chain(request)
        return await pipeline.dispatch(request)
    except Exception as exc:
        return await _answer_error(pipeline, request, exc)


async def _answer_error(pipeline: Pipeline, request: Request, exc: Exception) -> Response:
    if isinstance(exc, ServiceUnavailable) or pipeline.handler_for(exc) is not None:
        return await pipeline.handle_error(request, exc)
    return await pipeline.server_error(request, exc)
