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

from covet.exceptions import ServiceUnavailable
from covet.mounts import Mount
from covet.requests import Request
from covet.responses import Response

if TYPE_CHECKING:
    from covet.applications import Covet

__all__ = ["asgi_bridge", "build_asgi_stack", "is_asgi_middleware", "through_asgi_middleware", "websocket_bridge"]

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

logger = logging.getLogger("covet.error")


def is_asgi_middleware(cls: Any) -> bool:
    """Request middleware have a `dispatch(request, call_next)`; anything else is ASGI."""
    return getattr(cls, "dispatch", None) is None


def build_asgi_stack(app: Covet, declarations: Sequence[Any]) -> ASGIApp:
    """The declarations (outermost first) wrapped around covet's own request path."""
    inner: ASGIApp = functools.partial(_innermost, app)
    for decl in reversed(declarations):
        inner = decl.cls(inner, *decl.args, **decl.kwargs)
    return inner


def asgi_bridge(stack: ASGIApp) -> Callable[[Request], Awaitable[Response]]:
    """The app's request chain on covet's server: the request goes through the stack as
    ASGI messages and its response streams back (the same bridge a `Mount` uses)."""
    mount = Mount("", stack)

    async def call(request: Request) -> Response:
        return await mount.handle(request, "")

    return call


def websocket_bridge(app: Covet) -> Callable[[Any, Any], None]:
    """What the engine calls for a WebSocket upgrade on an app with ASGI middleware."""
    mount = Mount("", app._asgi_stack)
    call = mount.websocket_call(app)
    return lambda conn, raw: call(conn, raw, "")


async def through_asgi_middleware(app: Covet, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI side (uvicorn...): engine middleware first, as on covet's server, then the stack."""
    from covet.asgi import raw_request
    from covet.middleware.engine import engine_policy

    if scope["type"] == "http":
        early, send = engine_policy(app._policy, raw_request(scope, b""), send)
        if early is not None:
            await early.send_asgi(send, scope["method"] == "HEAD")
            return
    assert app._asgi_stack is not None
    await app._asgi_stack(scope, receive, send)


async def _innermost(app: Covet, scope: dict[str, Any], receive: Any, send: Any) -> None:
    from covet.asgi import raw_request, read_http, respond_http

    if scope["type"] == "websocket":
        from covet.websocket_routing import handle_websocket

        await handle_websocket(app, scope, receive, send)
        return
    if scope["type"] != "http":
        return  # lifespan is covet's own; other scopes have nothing to reach here
    try:
        read = await read_http(scope, receive)
    except Exception as exc:  # a middleware's `receive` raised (e.g. an HTTPException for a too-large body)
        request = Request(raw_request(scope, b""), app)
        await (await _answer_error(app, request, exc)).send_asgi(send, scope["method"] == "HEAD")
        return
    if read is not None:
        await respond_http(app, scope, read[0], read[1], receive, send, functools.partial(_handle, app))


async def _handle(app: Covet, request: Request) -> Response:
    try:
        if app._request_chain is not None:
            return await app._request_chain(request)
        return await app._dispatch(request)
    except Exception as exc:
        return await _answer_error(app, request, exc)


async def _answer_error(app: Covet, request: Request, exc: Exception) -> Response:
    if isinstance(exc, ServiceUnavailable) or app._handler_for(exc) is not None:
        return await app._handle_error(request, exc)
    return await app._server_error(request, exc)
