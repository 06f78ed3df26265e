"""The ASGI 3 side of `Covet`: lifespan, http and websocket scopes, through the same compiled
request pipeline (covet.pipeline) that covet's own server uses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from covet._engine import RawRequest
from covet.asgi_scope import raw_request
from covet.logtext import printable
from covet.middleware.engine import engine_policy
from covet.middleware.telemetry import asgi_handle
from covet.requests import Request
from covet.responses import PlainTextResponse, Response, StreamingResponse, asgi_disconnected, valid_headers
from covet.websocket_routing import handle_websocket

if TYPE_CHECKING:
    from covet.applications import Covet
    from covet.pipeline import Pipeline

logger = logging.getLogger("covet.error")

STREAM_THRESHOLD = 1024 * 1024


async def handle_asgi(pipeline: Pipeline, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """One ASGI call of the app whose compiled pipeline is `pipeline`."""
    kind = scope["type"]
    if pipeline.asgi_stack is not None and kind in ("http", "websocket"):
        await _through_asgi_middleware(pipeline, scope, receive, send)
    elif kind == "http":
        await _http(pipeline, scope, receive, send)
    elif kind == "lifespan":
        await _lifespan(pipeline.app, receive, send)
    elif kind == "websocket":
        await handle_websocket(pipeline, scope, receive, send)
    else:
        raise ValueError(f"covet does not handle ASGI scope type {kind!r}")


async def _http(pipeline: Pipeline, scope: dict[str, Any], receive: Any, send: Any) -> None:
    read = await read_http(scope, receive)
    if read is None:
        return
    raw, complete = read
    early, send = engine_policy(pipeline.policy, raw, send)
    if early is not None:
        await early.send_asgi(send, scope["method"] == "HEAD")
        return
    await respond_http(pipeline, scope, raw, complete, receive, send, asgi_handle(pipeline))


async def _through_asgi_middleware(pipeline: Pipeline, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app with pure ASGI middleware: engine middleware first, as on covet's server, then
    the stack (whose innermost app comes back to the pipeline, covet.middleware.asgi)."""
    if scope["type"] == "http":
        early, send = engine_policy(pipeline.policy, raw_request(scope, b""), send)
        if early is not None:
            await early.send_asgi(send, scope["method"] == "HEAD")
            return
    assert pipeline.asgi_stack is not None
    await pipeline.asgi_stack(scope, receive, send)


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
    pipeline: Pipeline,
    scope: dict[str, Any],
    raw: RawRequest,
    complete: bool,
    receive: Any,
    send: Any,
    handle: Callable[[Request], Awaitable[Response]],
) -> None:
    """Runs `handle` for the request and sends its response as ASGI messages."""
    path = scope["path"]
    request = Request(raw, pipeline.app)
    if not complete:
        request._receive = receive
    response = await handle(request)
    try:
        await response.prepare(scope["method"], raw.raw_headers)
    except Exception as exc:
        response = await pipeline.server_error(request, exc)
    if not valid_headers(response.raw_headers):
        # The engine refuses such headers too: answer 500 rather than send a split header.
        logger.error("Invalid response header from %s %s: CR, LF or NUL in a header", scope["method"], printable(path))
        response = PlainTextResponse("Internal Server Error", status_code=500)
    if isinstance(response, StreamingResponse):
        response.disconnected = functools.partial(asgi_disconnected, receive)
    try:
        await response.send_asgi(send, scope["method"] == "HEAD")
        if response.background is not None:
            await pipeline.run_background(response)
    except Exception:
        logger.exception("Error while sending the response to %s %s", scope["method"], printable(path))
        raise
    finally:
        await pipeline.finish(request)


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
