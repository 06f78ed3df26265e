"""The one request middleware behind `covet.logs.request_logging` and `covet.tracing.tracing`:
the request id, the access line and the request's span, set up around the handler.

One middleware for all three, added by whichever is turned on first, so their order never
depends on the order of the calls (the span is open while the access line is written, and the
line carries its trace id). Nothing of it exists until one of them is called: an app without
them keeps the engine's inline path for its handlers and pays nothing."""

from __future__ import annotations

import contextvars
import logging
import os
import time
from typing import Any

from covet.logtext import printable
from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.requests import Request
from covet.responses import Response

__all__ = ["RequestTelemetry", "TelemetryOptions", "telemetry_options"]

access_logger = logging.getLogger("covet.access")
#: The id of the request being served in this context ("" outside a request).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("covet_request_id", default="")
#: The W3C trace id (32 hex digits) of the request's span when tracing is on, else "".
trace_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("covet_trace_id", default="")
_MAX_ID = 128


class TelemetryOptions:
    """What the middleware does; changed in place by `request_logging` and `tracing`."""

    def __init__(self) -> None:
        self.request_ids = False
        self.access_log = False
        self.id_header = "x-request-id"
        self.trust_id_header = True
        #: covet.tracing's `RequestTracer` when tracing is on.
        self.tracer: Any = None


def telemetry_options(app: Any) -> TelemetryOptions:
    """The app's options, the middleware added (outermost) on the first call."""
    for decl in app.user_middleware:
        if decl.cls is RequestTelemetry:
            options: TelemetryOptions = decl.kwargs["options"]
            return options
    options = TelemetryOptions()
    app.add_middleware(RequestTelemetry, options=options)
    return options


def python_access_log(middleware: list[Any]) -> bool:
    """Whether the access line is written here (the engine's own is then left out)."""
    return any(decl.cls is RequestTelemetry and decl.kwargs["options"].access_log for decl in middleware)


def _sane_id(value: str | None) -> str | None:
    """A client's id is taken only when short and printable ASCII: it goes into every log line."""
    if not value or len(value) > _MAX_ID or not value.isascii() or not value.isprintable():
        return None
    return value


class RequestTelemetry(BaseHTTPMiddleware):
    def __init__(self, app: Any, options: TelemetryOptions) -> None:
        super().__init__(app)
        self.options = options

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        options = self.options
        start = time.perf_counter()
        request_id = ""
        if options.request_ids:
            if options.trust_id_header:
                request_id = _sane_id(request.headers.get(options.id_header)) or ""
            request_id = request_id or os.urandom(16).hex()  # what uuid4().hex is, without the UUID
            request_id_var.set(request_id)  # the request's own Task: its context ends with it
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
            if options.access_log and access_logger.isEnabledFor(logging.INFO):
                self._log(request, status, time.perf_counter() - start, request_id)
        assert response is not None
        if request_id:
            response.headers[options.id_header] = request_id
        if span is not None:
            response.headers["traceparent"] = span.traceparent
        return response

    def _log(self, request: Request, status: int, seconds: float, request_id: str) -> None:
        route = request.scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        client = request.client
        where = f"{client.host}:{client.port}" if client else "-"
        duration_ms = round(seconds * 1000, 3)
        access_logger.info(
            '%s "%s %s" %d %.1f ms',
            where,
            request.method,
            printable(request.url.path),
            status,
            duration_ms,
            extra={
                "method": request.method,
                "route": template,
                "path": request.url.path,
                "status": status,
                "duration_ms": duration_ms,
                "client": where,
                "request_id": request_id,
            },
        )
