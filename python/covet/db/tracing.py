"""A span per SQL statement, from SQLAlchemy's own cursor events (covet.tracing turns it on).

Why events rather than opentelemetry-instrumentation-sqlalchemy: the events are SQLAlchemy's
public hooks, listened to on the `Engine` class they reach every engine, the async ones
(asyncpg, aiosqlite) included, whenever it was created; that is all the package would add.
SQLAlchemy runs the driver call in a greenlet carrying the caller's context, so the span is
a child of the request's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["trace_statements"]

_KEY = "covet_span"
_installed: list[Any] = []


def trace_statements(tracer: Any) -> None:
    """Every statement of every engine of this process becomes a CLIENT span of `tracer`."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    if _installed:
        _installed[0] = tracer
        return
    _installed.append(tracer)

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        system = conn.dialect.name
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        attributes = {"db.system.name": system, "db.query.text": statement, "db.operation.name": operation}
        database = conn.engine.url.database
        if database:
            attributes["db.namespace"] = database
        span = _installed[0].start_span(f"{operation} {system}", kind=SpanKind.CLIENT, attributes=attributes)
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
