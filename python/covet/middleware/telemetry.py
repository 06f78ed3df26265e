"""Request ids, access lines and request spans: configured once per app by
`covet.logs.request_logging` and `covet.tracing.tracing`, carried out where it costs least.

On covet's own server (and the test client, which drives the same engine) the engine takes
or makes the request id, writes it on every response and, when the request reaches Python,
sets `request_id_var`; it also formats the access line and writes it buffered
(`TelemetryOptions.install`). Python pays nothing per request for either. Under another
ASGI server `asgi_handle` does the same in Python around the pipeline. Tracing needs Python
per request anyway (the OpenTelemetry SDK makes the span): with it on, the one middleware
here, `RequestTelemetry`, opens the span, and writes the access line so that it carries the
trace id. Nothing of this exists until one of them is called."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from covet.logtext import printable
from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.requests import Request
from covet.responses import Response

__all__ = ["RequestTelemetry", "TelemetryOptions", "telemetry_options", "tracing_middleware"]

access_logger = logging.getLogger("covet.access")
#: The id of the request being served in this context ("" outside a request).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("covet_request_id", default="")
#: The W3C trace id (32 hex digits) of the request's span when tracing is on, else "".
trace_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("covet_trace_id", default="")
_MAX_ID = 128
#: Seconds an engine-written access line may wait in the worker's buffer.
FLUSH_DELAY = 0.05


class TelemetryOptions:
    """What is on for one app; changed in place by `request_logging` and `tracing`. Kept in
    the app's `server_hooks`: installing it on each engine server the app builds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.request_ids = False
        self.access_log = False
        self.id_header = "x-request-id"
        self.trust_id_header = True
        #: covet.tracing's `RequestTracer` when tracing is on.
        self.tracer: Any = None
        #: The engine server built last (its buffered lines are written out at shutdown).
        self.server: Any = None
        #: covet.logs' `engine_sink`: where the engine may write the lines itself, if anywhere.
        self.engine_sink: Callable[[], tuple[int, int | None] | None] = lambda: None

    @property
    def engine_access_log(self) -> bool:
        """The access line is the engine's (without tracing: with it, the middleware's)."""
        return self.access_log and self.tracer is None

    def __call__(self, server: Any) -> None:
        """The server hook: request ids and access lines done by this engine server."""
        if self.request_ids:
            server.set_request_ids(self.id_header, self.trust_id_header, request_id_var)
        if self.engine_access_log and access_logger.isEnabledFor(logging.INFO):
            routes = [str(getattr(route, "path", "")) for route in self.app.served_routes]
            sink = self.engine_sink()
            if sink is None:
                server.set_access_lines(routes, callback=log_access_line)
            else:
                fd, text_offset = sink
                server.set_access_lines(routes, fd=fd, text_offset=text_offset, schedule=_schedule_flush)
        self.server = server

    async def flush(self) -> None:
        """A shutdown handler: the engine's buffered access lines are written out."""
        if self.server is not None:
            self.server.flush_access_log()


def telemetry_options(app: Any) -> TelemetryOptions:
    """The app's options, created (and hooked into its servers) on the first call."""
    for hook in app.server_hooks:
        if isinstance(hook, TelemetryOptions):
            return hook
    options = TelemetryOptions(app)
    app.server_hooks.append(options)
    app.on_shutdown_handlers.append(options.flush)
    return options


def find_options(app: Any) -> TelemetryOptions | None:
    return next((hook for hook in app.server_hooks if isinstance(hook, TelemetryOptions)), None)


def structured_access_log(app: Any) -> bool:
    """Whether the app writes its own access lines (the engine's plain one is then left out)."""
    options = find_options(app)
    return options is not None and options.access_log


def _schedule_flush(flush: Callable[[], None]) -> None:
    """Called by the engine when a first line waits in its buffer."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        flush()
        return
    loop.call_later(FLUSH_DELAY, flush)


def log_access_line(
    client: tuple[str, int] | None,
    method: str,
    path: str,
    route: str | None,
    status: int,
    duration_ms: float,
    request_id: str,
) -> None:
    """One access line through `logging` (the engine's callback when it cannot write the line
    itself, and the line under another ASGI server or with tracing on)."""
    where = f"{client[0]}:{client[1]}" if client else "-"
    duration_ms = round(duration_ms, 3)
    access_logger.info(
        '%s "%s %s" %d %.1f ms',
        where,
        method,
        printable(path),
        status,
        duration_ms,
        extra={
            "method": method,
            "route": route or "<unmatched>",
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": where,
            "request_id": request_id,
        },
    )


def _sane_id(value: str | None) -> str | None:
    """A client's id is taken only when short and printable ASCII: it goes into every log line."""
    if not value or len(value) > _MAX_ID or not value.isascii() or not value.isprintable():
        return None
    return value


def request_id_for(request: Request, options: TelemetryOptions) -> str:
    """The request's id where Python makes it (another ASGI server): the client's when trusted
    and sane, else 32 random hex digits (the engine's are 32 hex digits too)."""
    given = _sane_id(request.headers.get(options.id_header)) if options.trust_id_header else None
    return given or os.urandom(16).hex()


def asgi_handle(pipeline: Any) -> Callable[[Request], Awaitable[Response]]:
    """`pipeline.handle`, with the request id and the access line when the app has them: what
    the engine does on covet's own server, for another ASGI server."""
    options = find_options(pipeline.app)
    if options is None or not (options.request_ids or options.engine_access_log):
        return pipeline.handle  # type: ignore[no-any-return]

    async def handle(request: Request) -> Response:
        start = time.perf_counter()
        request_id = ""
        if options.request_ids:
            request_id = request_id_for(request, options)
            request_id_var.set(request_id)
        status = 500
        try:
            response: Response = await pipeline.handle(request)
            status = response.status_code
        finally:
            if options.engine_access_log:
                _log_request(request, status, time.perf_counter() - start, request_id)
        if request_id:
            response.headers.setdefault(options.id_header, request_id)
        return response

    return handle


def _log_request(request: Request, status: int, seconds: float, request_id: str) -> None:
    client = request.client
    route = getattr(request.scope.get("route"), "path", None)
    where = (client.host, client.port) if client else None
    log_access_line(where, request.method, request.url.path, route, status, seconds * 1000, request_id)


def tracing_middleware(app: Any) -> None:
    """Adds `RequestTelemetry` (outermost) unless the app has it."""
    if not any(decl.cls is RequestTelemetry for decl in app.user_middleware):
        app.add_middleware(RequestTelemetry, options=telemetry_options(app))


class RequestTelemetry(BaseHTTPMiddleware):
    """The request's span (tracing on): opened around the handler, its trace id on the
    response and on the access line, written here then."""

    def __init__(self, app: Any, options: TelemetryOptions) -> None:
        super().__init__(app)
        self.options = options

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        options = self.options
        start = time.perf_counter()
        tracer = options.tracer
        span = tracer.start(request) if tracer is not None else None
        if span is not None:
            trace_id_var.set(span.trace_id)
        response: Response | None = None
        try:
            try:
                response = await call_next(request)
            except Exception as exc:  # answered here, as the pipeline would, to carry the ids
                response = await self.app.compile().handle_error(request, exc)
        finally:
            status = response.status_code if response is not None else 500  # cancelled
            if span is not None:
                tracer.end(span, request, status)
            if options.access_log and span is not None:
                _log_request(request, status, time.perf_counter() - start, request_id_var.get())
        assert response is not None
        if span is not None:
            response.headers["traceparent"] = span.traceparent
        return response
