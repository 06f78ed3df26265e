"""Server-sent events: a `text/event-stream` response fed by a generator of events.

The events come from the handler's generator, which runs in a task of its own so the response
can interleave keep-alive comments while it waits, and stop it the moment the client leaves
(the server's disconnect signal, not the next failed write). Stopping cancels the generator
where it waits and closes it, so its `finally` blocks run. See docs/sse.md.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import covet.responses as _responses
from covet._engine import dumps
from covet.background import BackgroundTask
from covet.concurrency import run_in_threadpool
from covet.encoders import json_default
from covet.requests import Request
from covet.responses import Send, StreamingResponse, asgi_disconnected

__all__ = ["EventSourceResponse", "ServerSentEvent", "format_sse_event", "last_event_id"]

# The three line endings the event-stream format knows; str.splitlines() knows more.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
PING = b": ping\n\n"
DEFAULT_PING = 15.0


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event. `data` is sent as JSON, text included (`"hello"` goes out quoted, as in
    FastAPI); `raw_data` is text sent as it is (HTML, CSV...), and text with line breaks
    becomes several `data:` lines, which the browser joins back with "\\n". `None` fields
    are left out; an event without data only sets `id` or `retry` (or carries a comment), and
    the browser dispatches nothing for it."""

    data: Any = None
    event: str | None = None
    id: str | int | None = None
    retry: int | None = None
    comment: str | None = None
    raw_data: str | None = None

    def __post_init__(self) -> None:
        if self.data is not None and self.raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' (sent as JSON) and 'raw_data' (sent as it is) on a ServerSentEvent"
            )
        if self.raw_data is not None and not isinstance(self.raw_data, str):
            raise TypeError(f"ServerSentEvent raw_data must be a str, not {type(self.raw_data).__name__}")
        if self.id is not None:
            if isinstance(self.id, bool) or not isinstance(self.id, (str, int)):
                raise TypeError(f"ServerSentEvent id must be a str or an int, not {type(self.id).__name__}")
            object.__setattr__(self, "id", str(self.id))
            # A browser ignores an id with NUL in it; CR/LF would start a new field.
            if "\0" in self.id:
                raise ValueError(f"ServerSentEvent id: SSE 'id' must not contain null characters: {self.id!r}")
            _refuse_breaks("id", self.id)
        if self.event is not None:
            if not isinstance(self.event, str):
                raise TypeError(f"ServerSentEvent event must be a str, not {type(self.event).__name__}")
            _refuse_breaks("event", self.event)
        if self.retry is not None and (type(self.retry) is not int or self.retry < 0):
            raise ValueError(f"ServerSentEvent retry must be a non-negative int (milliseconds), not {self.retry!r}")
        if self.comment is not None and not isinstance(self.comment, str):
            raise TypeError(f"ServerSentEvent comment must be a str, not {type(self.comment).__name__}")

    def encode(self) -> bytes:
        """The event in the event-stream format, ended by its blank line."""
        data = self.raw_data if self.raw_data is not None else None if self.data is None else json_data(self.data)
        return format_sse_event(data_str=data, event=self.event, id=self.id, retry=self.retry, comment=self.comment)


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,  # noqa: A002 - the field's name in the format
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """An event from text already serialized, in FastAPI's field order (comment, event, data,
    id, retry), ended by its blank line. Only CR, LF and CRLF break lines."""
    lines: list[str] = []
    if comment is not None:
        lines.extend(": " + line for line in _LINE_BREAK.split(comment))
    if event is not None:
        lines.append(f"event: {event}")
    if data_str is not None:
        lines.extend("data: " + line for line in _LINE_BREAK.split(data_str))
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    return ("\n".join(lines) + "\n\n").encode()


def json_data(data: Any) -> str:
    """A value as FastAPI writes it in an event: a model by its own JSON dump, anything else
    as JSON with `", "` and `": "` separators (`{"key": "value"}`)."""
    dump = getattr(data, "model_dump_json", None)
    if dump is not None:
        return dump()
    return json.dumps(json.loads(dumps(data, json_default)))


def _refuse_breaks(name: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError(f"ServerSentEvent {name}: SSE '{name}' must be a single line: {value!r}")


def _text(data: Any) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data).decode()
    return dumps(data, json_default).decode()


def encode_event(item: Any) -> bytes:
    """What the generator yielded, as event-stream bytes: a `ServerSentEvent` as it says,
    anything else as the data of an unnamed event (text as it is, other values as JSON).
    (A generator *handler* with `response_class=EventSourceResponse` sends every value as
    JSON, text included, as FastAPI does: see covet.streams.)"""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    return format_sse_event(data_str=_text(item))


def last_event_id(request: Request) -> str | None:
    """The id of the last event a reconnecting `EventSource` saw (its `Last-Event-ID` header),
    so the handler can resume after it. A `last_event_id: str | None = Header(None)`
    parameter gives the same value."""
    return request.headers.get("last-event-id")


Events = AsyncIterable[Any] | Iterable[Any]

_END: Any = object()


class EventSourceResponse(StreamingResponse):
    """Streams events from a sync or async iterator, with `: ping` comments after `ping`
    seconds without an event (None or 0: no pings), until the iterator ends or the client
    leaves. Headers keep proxies and caches from holding the stream back; those given in
    `headers` win over them."""

    media_type = "text/event-stream"
    # Turns each item the generator yields into event-stream bytes.
    encode: Callable[[Any], bytes] = staticmethod(encode_event)

    def __init__(
        self,
        content: Events,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        ping: float | None = DEFAULT_PING,
    ) -> None:
        if ping is not None and ping < 0:
            raise ValueError(f"ping must be a number of seconds (or None for no pings), not {ping!r}")
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        self.body_iterator = content  # type: ignore[assignment]
        self.ping = ping
        self.raw_headers = []
        defaults = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        self.init_headers({**defaults, **{k.lower(): v for k, v in (headers or {}).items()}})

    async def chunks(self) -> AsyncIterator[bytes]:
        # At most one event waits in the queue: a slow client slows the generator down.
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        producer = asyncio.ensure_future(self._produce(queue))
        gone = asyncio.ensure_future(self.disconnected()) if self.disconnected is not None else None
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                if getter is None:
                    getter = asyncio.ensure_future(queue.get())
                waiting = {getter} if gone is None else {getter, gone}
                done, _ = await asyncio.wait(waiting, timeout=self.ping or None, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    item, getter = getter.result(), None
                    if item is _END:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    yield item
                elif gone is not None and gone in done:
                    return
                else:
                    yield PING
        finally:
            pending = [task for task in (getter, gone, producer) if task is not None]
            for task in pending:
                task.cancel()
            # Waits for the generator's own clean-up (its `finally`), which runs in `producer`.
            await asyncio.gather(*pending, return_exceptions=True)

    async def _produce(self, queue: asyncio.Queue[Any]) -> None:
        """Runs the generator to its end, queueing its encoded events, then `_END` or the
        exception it raised; cancelled when the client leaves."""
        content = self.body_iterator
        try:
            if isinstance(content, AsyncIterable):
                await _pump_async(content, queue, self.encode)
            else:
                await _pump_sync(content, queue, self.encode)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # whatever it raised, the response must not wait forever
            await queue.put(exc)
        else:
            await queue.put(_END)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        """As an ASGI application, it learns of the client leaving from `receive`."""
        if self.disconnected is None:
            self.disconnected = functools.partial(asgi_disconnected, receive)
        await super().__call__(scope, receive, send)


async def _pump_async(content: AsyncIterable[Any], queue: asyncio.Queue[Any], encode: Callable[[Any], bytes]) -> None:
    iterator = aiter(content)
    try:
        async for item in iterator:
            await queue.put(encode(item))
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def _next(iterator: Iterator[Any]) -> Any:
    try:
        return next(iterator)
    except StopIteration:
        return _END


async def _pump_sync(content: Iterable[Any], queue: asyncio.Queue[Any], encode: Callable[[Any], bytes]) -> None:
    """A blocking generator steps in the thread pool. A step in progress cannot be
    interrupted: on cancellation it is waited for, then the generator is closed."""
    iterator = iter(content)
    try:
        while True:
            step = asyncio.ensure_future(run_in_threadpool(_next, iterator))
            try:
                item = await asyncio.shield(step)
            except asyncio.CancelledError:
                await asyncio.wait({step})
                raise
            if item is _END:
                return
            await queue.put(encode(item))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await run_in_threadpool(close)


# FastAPI users import the response from `fastapi.responses` too. It cannot be defined there
# (covet.responses comes first), so it is published there once defined: the `covet` package
# imports this module, so any `from covet.responses import EventSourceResponse` finds it.
_responses.EventSourceResponse = EventSourceResponse  # type: ignore[attr-defined]
