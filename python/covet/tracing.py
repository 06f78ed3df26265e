"""OpenTelemetry traces: a span per request, continued from the caller's W3C `traceparent`
and handed back in the response's, with child spans for database statements, Redis
commands, cache reads and writes, and outgoing httpx calls, exported over OTLP/HTTP.

```python
from covet.tracing import tracing

tracing(app, endpoint="http://collector:4318/v1/traces", service_name="shop")
```

Off unless called: nothing here is imported and no request pays for it. Needs
`pip install covet[otel]` (the OpenTelemetry SDK, its OTLP/HTTP exporter, and the project's
Redis and httpx instrumentations). See docs/observability.md."""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from covet.middleware.telemetry import telemetry_options, tracing_middleware
from covet.requests import Request

__all__ = ["RequestTracer", "tracing"]

_propagator = TraceContextTextMapPropagator()


def tracing(
    app: Any,
    *,
    endpoint: str | None = None,
    service_name: str | None = None,
    provider: TracerProvider | None = None,
    databases: bool = True,
    redis: bool = True,
    cache: bool = True,
    httpx: bool = True,
) -> TracerProvider:
    """Traces every request of `app`. Spans go to `provider`, else to a new one exporting over
    OTLP/HTTP to `endpoint` (else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`/`OTEL_EXPORTER_OTLP_ENDPOINT`,
    else `http://localhost:4318/v1/traces`), in batches, flushed when the app shuts down.
    The flags choose the child spans (each instruments its library for the whole process)."""
    if provider is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        resource = Resource.create({"service.name": service_name or getattr(app, "title", "") or "covet"})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        app.on_shutdown_handlers.append(_flush(provider))
    telemetry_options(app).tracer = RequestTracer(provider)
    tracing_middleware(app)
    if databases:
        from covet.db.tracing import trace_driver_queries, trace_statements

        trace_statements(provider.get_tracer("covet.db"))
        trace_driver_queries(provider.get_tracer("covet.db"))
    if cache:
        from covet.cache.core import Cache

        Cache.tracer, Cache.span_kind = provider.get_tracer("covet.cache"), SpanKind.CLIENT
    if redis:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        RedisInstrumentor().instrument(tracer_provider=provider)
    if httpx:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    return provider


def _flush(provider: TracerProvider) -> Any:
    async def flush() -> None:
        provider.force_flush()

    return flush


class RequestSpan:
    """The server span of one request, with what the response and the log lines need."""

    __slots__ = ("span", "token", "trace_id", "traceparent")

    def __init__(self, span: trace.Span, token: object) -> None:
        self.span = span
        self.token = token
        ctx = span.get_span_context()
        self.trace_id = format(ctx.trace_id, "032x")
        self.traceparent = f"00-{self.trace_id}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


class RequestTracer:
    """Starts and ends the request spans (called by covet.middleware.telemetry)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.tracer = provider.get_tracer("covet")

    def start(self, request: Request) -> RequestSpan:
        parent = _propagator.extract(request.headers)  # an absent or malformed traceparent: a new trace
        client = request.client
        attributes: dict[str, Any] = {
            "http.request.method": request.method,
            "url.path": request.url.path,
            "url.scheme": request.url.scheme,
        }
        if client is not None:
            attributes["client.address"] = client.host
            attributes["client.port"] = client.port
        agent = request.headers.get("user-agent")
        if agent:
            attributes["user_agent.original"] = agent
        span = self.tracer.start_span(request.method, context=parent, kind=SpanKind.SERVER, attributes=attributes)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return RequestSpan(span, token)

    def end(self, handle: RequestSpan, request: Request, status: int) -> None:
        span = handle.span
        route = getattr(request.scope.get("route"), "path", None)
        if route:
            span.set_attribute("http.route", route)
            span.update_name(f"{request.method} {route}")
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(handle.token)
