"""The ASGI 3 side of `Covet`: lifespan and http, through the same router and request path
that covet's own server uses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from covet._engine import RawRequest
from covet.logtext import printable
from covet.middleware.engine import engine_policy
from covet.requests import Request
from covet.responses import PlainTextResponse, Response, StreamingResponse, asgi_disconnected, valid_headers

if TYPE_CHECKING:
    from covet.applications import Covet

logger = logging.getLogger("covet.error")

STREAM_THRESHOLD = 1024 * 1024


async def handle_asgi(app: Covet, scope: dict[str, Any], receive: Any, send: Any) -> None:
    kind = scope["type"]
    app.engine_router  # noqa: B018 - compiles the middleware on first use
    if app._asgi_stack is not None and kind in ("http", "websocket"):
        from covet.middleware.asgi import through_asgi_middleware

        await through_asgi_middleware(app, scope, receive, send)
    elif kind == "http":
        await _http(app, scope, receive, send)
    elif kind == "lifespan":
        await _lifespan(app, receive, send)
    elif kind == "websocket":
        from covet.websocket_routing import handle_websocket

        await handle_websocket(app, scope, receive, send)
    else:
        raise ValueError(f"covet does not handle ASGI scope type {kind!r}")


async def _http(app: Covet, scope: dict[str, Any], receive: Any, send: Any) -> None:
    read = await read_http(scope, receive)
    if read is None:
        return
    raw, complete = read
    early, send = engine_policy(app._policy, raw, send)
    if early is not None:
        await early.send_asgi(send, scope["method"] == "HEAD")
        return
    await respond_http(app, scope, raw, complete, receive, send, app._handle_request)


def raw_request(scope: dict[str, Any], body: bytes) -> RawRequest:
    """The engine's request object for an ASGI `http` scope."""
    path, raw_path = route_path(scope)
    return RawRequest(
        scope["method"],
        path,
        raw_path,
        scope.get("query_string", b""),
        scope.get("headers", []),
        body,
        scope.get("http_version", "1.1"),
        tuple(scope["client"]) if scope.get("client") else None,
        tuple(scope["server"]) if scope.get("server") else None,
        scope.get("scheme", "http"),
        scope.get("root_path", ""),
    )


def route_path(scope: dict[str, Any]) -> tuple[str, bytes]:
    """The path the app routes on. As in ASGI since 2.3 (and Starlette), `path` includes
    `root_path`: a covet app mounted under another app, or served behind a proxy prefix,
    routes on what follows it."""
    path = scope["path"]
    raw_path = scope.get("raw_path") or path.encode()
    root = scope.get("root_path", "").rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
        encoded = root.encode()
        if raw_path.startswith(encoded):
            raw_path = raw_path[len(encoded) :] or b"/"
    return path, raw_path


async def read_http(scope: dict[str, Any], receive: Any) -> tuple[RawRequest, bool] | None:
    """The request and whether its body is complete; None if the client left."""
    # As covet's own server does: up to STREAM_THRESHOLD the body is read before the handler
    # runs; past it, the handler reads the rest from `receive` as it arrives (request.stream()).
    chunks: list[bytes] = []
    size = 0
    complete = False
    while size <= STREAM_THRESHOLD:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            complete = True
            break
    return raw_request(scope, b"".join(chunks)), complete


async def respond_http(
    app: Covet,
    scope: dict[str, Any],
    raw: RawRequest,
    complete: bool,
    receive: Any,
    send: Any,
    handle: Callable[[Request], Awaitable[Response]],
) -> None:
    """Runs `handle` for the request and sends its response as ASGI messages."""
    path = scope["path"]
    request = Request(raw, app)
    if not complete:
        request._receive = receive
    response = await handle(request)
    try:
        await response.prepare()
    except Exception as exc:
        response = await app._server_error(request, exc)
    if not valid_headers(response.raw_headers):
        # The engine refuses such headers too: answer 500 rather than send a split header.
        logger.error("Invalid response header from %s %s: CR, LF or NUL in a header", scope["method"], printable(path))
        response = PlainTextResponse("Internal Server Error", status_code=500)
    if isinstance(response, StreamingResponse):
        response.disconnected = functools.partial(asgi_disconnected, receive)
    try:
        await response.send_asgi(send, scope["method"] == "HEAD")
        if response.background is not None:
            await app._run_background(response)
    except Exception:
        logger.exception("Error while sending the response to %s %s", scope["method"], printable(path))
        raise
    finally:
        await app._finish_request(request)


async def _lifespan(app: Covet, receive: Any, send: Any) -> None:
    started = False
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.startup()
            except BaseException as exc:
                logger.exception("Application startup failed")
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                raise
            started = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                if started:
                    await app.shutdown()
            except BaseException as exc:
                logger.exception("Application shutdown failed")
                await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                raise
            await send({"type": "lifespan.shutdown.complete"})
            return
