"""A span per SQL statement, from SQLAlchemy's own cursor events and asyncpg's query logger
(covet.tracing turns both on).

Why events rather than opentelemetry-instrumentation-sqlalchemy: the events are SQLAlchemy's
public hooks, listened to on the `Engine` class they reach every engine, the async ones
(asyncpg, aiosqlite) included, whenever it was created; that is all the package would add.
SQLAlchemy runs the driver call in a greenlet carrying the caller's context, so the span is
a child of the request's.

The lean path (`Database.connection()` on asyncpg) bypasses SQLAlchemy, so its statements are
seen through asyncpg's public `add_query_logger`, added to each connection the pool opens. asyncpg
reports a statement once it is done, with its duration, in a callback scheduled from the
request's task and so run in the request's context: the span is back-dated by that duration."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["trace_driver_queries", "trace_statements"]

_KEY = "covet_span"
_installed: list[Any] = []


def trace_statements(tracer: Any) -> None:
    """Every statement of every engine of this process becomes a CLIENT span of `tracer`."""
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not _swap(_installed, tracer):
        return

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        system = conn.dialect.name
        name, attributes = _describe(system, statement, conn.engine.url.database)
        span = _installed[0].start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        conn.info.setdefault(_KEY, []).append(span)

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        spans = conn.info.get(_KEY)
        if spans:
            span = spans.pop()
            if cursor is not None and getattr(cursor, "rowcount", -1) >= 0:
                span.set_attribute("db.response.returned_rows", cursor.rowcount)
            span.end()

    def failed(exception_context: Any) -> None:
        conn = exception_context.connection
        spans = conn.info.get(_KEY) if conn is not None else None
        if spans:
            span = spans.pop()
            error = exception_context.original_exception
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "handle_error", failed)


def _swap(holder: list[Any], tracer: Any) -> bool:
    """Points the hooks at `tracer`; True the first time, when they still have to be installed
    (hooks are installed once per process, as `tracing()` may be called for several apps)."""
    first = not holder
    holder[:] = [tracer]
    return first


def _describe(system: str, statement: str, database: str | None) -> tuple[str, dict[str, Any]]:
    """A statement's span name and attributes, after OpenTelemetry's database conventions."""
    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    attributes: dict[str, Any] = {"db.system.name": system, "db.query.text": statement, "db.operation.name": operation}
    if database:
        attributes["db.namespace"] = database
    return f"{operation} {system}", attributes


_driver_tracer: list[Any] = []


def trace_driver_queries(tracer: Any) -> None:
    """Every statement sent on a lean-path asyncpg connection becomes a CLIENT span of `tracer`."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    from covet.db.pool import connection_hooks

    if not _swap(_driver_tracer, tracer):
        return

    def logged(record: Any) -> None:
        params = record.conn_params
        name, attributes = _describe("postgresql", record.query, getattr(params, "database", None))
        end = time.time_ns()
        span = _driver_tracer[0].start_span(
            name, kind=SpanKind.CLIENT, attributes=attributes, start_time=end - int(record.elapsed * 1e9)
        )
        if record.exception is not None:
            span.record_exception(record.exception)
            span.set_status(Status(StatusCode.ERROR, type(record.exception).__name__))
        span.end(end_time=end)

    def hook(conn: Any) -> None:
        if hasattr(conn, "add_query_logger"):  # asyncpg 0.29 and later
            conn.add_query_logger(logged)

    connection_hooks.append(hook)
