"""Structured logs: JSON lines for a log collector, readable text in a terminal, and the
request id on every line written while a request is served.

```python
from covet.logs import configure_logging, request_logging

configure_logging()          # JSON lines, or text when stderr is a terminal
request_logging(app)         # X-Request-ID in and out, one access line per request
```

The request id (and the trace id, when `covet.tracing` is on) live in context variables set
for the request's task, so a line the app itself logs with `logging` carries them too:
`RequestContextFilter` copies them onto each record. See docs/observability.md."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from typing import IO, Any

from covet.middleware.telemetry import access_logger, request_id_var, telemetry_options, trace_id_var

__all__ = [
    "JSONFormatter",
    "RequestContextFilter",
    "TextFormatter",
    "configure_logging",
    "current_request_id",
    "engine_sink",
    "request_logging",
]


# Attributes every LogRecord has: anything else on a record came from `extra=` and is a field.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def current_request_id() -> str:
    """The id of the request this code runs for, "" outside one (to pass on to other services)."""
    return request_id_var.get()


class RequestContextFilter(logging.Filter):
    """Puts `request_id` and `trace_id` on every record that passes the handler it is added
    to (a handler's filter sees records of every logger, a logger's only its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "trace_id"):
            record.trace_id = trace_id_var.get()
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record, in the order they were given."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: `time` (UTC, ISO 8601, milliseconds), `level`, `logger`,
    `message`, the request's `request_id`/`trace_id` when there is one, every `extra=` field
    (an access line's `method`, `route`, `status`...), and `exception` with its traceback."""

    def __init__(self) -> None:
        super().__init__()
        # One encoder, made once: json.dumps with options builds a new one per call.
        self._encode = json.JSONEncoder(default=str, ensure_ascii=False, separators=(", ", ": ")).encode
        self._second = (-1, "")  # the last whole second formatted, reused within it

    def _time(self, created: float) -> str:
        second = int(created)
        if second != self._second[0]:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            if value not in ("", None):
                out[key] = value
        if record.exc_info:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.stack_info:
            out["stack"] = record.stack_info
        return self._encode(out)


class TextFormatter(logging.Formatter):
    """`12:00:01.123 INFO  covet.access: GET /items/{id} 200 1.2 ms [request id]`: for a
    person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", "")
        return f"{line} [{request_id}]" if request_id and "\n" not in line else line


def configure_logging(
    level: str | int = "INFO", *, json_lines: bool | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Replaces the root logger's handlers with one writing to `stream` (stderr): JSON lines,
    or text when `json_lines` is None and the stream is a terminal. Returns the handler."""
    stream = stream if stream is not None else sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter() if json_lines else TextFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def engine_sink() -> tuple[int, int | None] | None:
    """(descriptor, UTC offset for text or None for JSON) when the engine can write the access
    lines exactly as the logging configuration would: one handler in the way of
    `covet.access`, writing to a file or stream with a descriptor, with covet.logs'
    formatter. Anything else (a handler of the user's own, a filter, a stream in memory) keeps
    the lines going through `logging`, so none is lost or written differently."""
    handlers: list[logging.Handler] = []
    logger: logging.Logger | None = access_logger
    while logger is not None:
        handlers.extend(logger.handlers)
        logger = logger.parent if logger.propagate else None
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    formatter = type(handler.formatter)
    if type(handler) not in (logging.StreamHandler, logging.FileHandler) or handler.level > logging.INFO:
        return None
    if formatter not in (JSONFormatter, TextFormatter):
        return None
    if any(type(f) is not RequestContextFilter for f in handler.filters):
        return None
    stream = getattr(handler, "stream", None)
    try:
        fd = stream.fileno()  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        return None
    handler.flush()  # what Python wrote so far comes first
    # A descriptor of the engine's own (closed with the server): the same file, whatever
    # becomes of the handler's stream.
    return os.dup(fd), (time.localtime().tm_gmtoff if formatter is TextFormatter else None)


def request_logging(
    app: Any, *, access_log: bool = True, header: str = "X-Request-ID", trust_header: bool = True
) -> None:
    """Gives each request of `app` an id, taken from the `header` the client (or a proxy in
    front) sent when `trust_header` and it is sane, else generated; every response carries it
    back (the engine's own 404s, refusals and cache hits too), and log lines written while
    serving it carry it. With `access_log`, one line per request on the `covet.access`
    logger, with its route, duration and id (the plain access line of `covet run` is then
    left out). On covet's server the engine does both with no Python call per request: it
    writes the line itself, buffered, when `covet.access` goes to one handler with this
    module's formatter (else through `logging`). See docs/observability.md."""
    options = telemetry_options(app)
    options.request_ids = True
    options.access_log = access_log
    options.id_header = header.lower()
    options.trust_id_header = trust_header
    options.engine_sink = engine_sink
