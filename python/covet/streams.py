"""Handlers written as generators (`yield` in the handler itself), as FastAPI streams them.

What a generator handler answers depends on its response class, decided once at start-up:
the default JSON class streams JSON Lines (`application/jsonl`, one value per line), an
`EventSourceResponse` streams server-sent events, and any other class (`StreamingResponse`...)
gets the generator as its content, chunks as they are. A return annotation such as
`AsyncIterable[Item]` names the type each item is validated and serialized as (a
`ResponseValidationError` mid-stream ends the response); without one, items go out as JSON.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Generator, Iterable, Iterator
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from covet._engine import dumps
from covet.encoders import json_default
from covet.exceptions import ResponseValidationError
from covet.responses import JSONResponse, Response, StreamingResponse
from covet.sse import EventSourceResponse, ServerSentEvent, format_sse_event, json_data

__all__ = ["SSE_ITEM_SCHEMA", "StreamPlan", "is_generator", "stream_item_type"]

# What OpenAPI 3.2 says one server-sent event is; `data` gets the item type's schema.
SSE_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}

_STREAM_ORIGINS = {AsyncIterable, AsyncIterator, AsyncGenerator, Iterable, Iterator, Generator}


def is_generator(endpoint: Callable[..., Any]) -> bool:
    """Whether calling the handler makes a (sync or async) generator."""
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    if inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        return True
    call = getattr(endpoint, "__call__", None)  # noqa: B004 - callable objects
    return inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call)


def stream_item_type(annotation: Any) -> Any | None:
    """`T` of an `AsyncIterable[T]`-like return annotation (Any when bare); None otherwise."""
    origin = get_origin(annotation)
    if origin in _STREAM_ORIGINS:
        args = get_args(annotation)
        return args[0] if args else Any
    return None


class StreamPlan:
    """How one generator handler's items become a response, settled at start-up."""

    def __init__(self, response_class: type[Response], item_type: Any, dump_options: dict[str, Any]) -> None:
        if isinstance(response_class, type) and issubclass(response_class, EventSourceResponse):
            self.kind = "sse"
        elif response_class is JSONResponse:
            self.kind = "jsonl"
        else:
            self.kind = "raw"
        self.response_class = response_class
        self.dump_options = dump_options
        self.adapter: TypeAdapter[Any] | None = None
        # The type items are checked against and documented as (None: anything goes as JSON).
        self.item_type: Any = None
        typed = item_type is not None and item_type is not Any and item_type is not object
        if (
            self.kind != "raw"
            and typed
            and not (isinstance(item_type, type) and issubclass(item_type, ServerSentEvent))
        ):
            self.item_type = item_type
            self.adapter = TypeAdapter(item_type)

    def serialize(self, item: Any) -> bytes:
        """One item as JSON, validated against the item type when there is one."""
        adapter = self.adapter
        if adapter is None:
            return dumps(item, json_default) if self.kind == "jsonl" else json_data(item).encode()
        try:
            value = adapter.validate_python(item, from_attributes=True)
        except ValidationError as exc:
            errors = [{**e, "loc": ("response", *e["loc"])} for e in exc.errors(include_url=False)]
            raise ResponseValidationError(errors, body=item) from None
        return adapter.dump_json(value, **self.dump_options)

    def _event(self, item: Any) -> bytes:
        # A ServerSentEvent says itself what to send (and is not checked against the item type).
        if isinstance(item, ServerSentEvent):
            return item.encode()
        return format_sse_event(data_str=self.serialize(item).decode())

    def _line(self, item: Any) -> bytes:
        return self.serialize(item) + b"\n"

    def response(self, gen: Any, status_code: int, ping: float | None) -> Response:
        """The response streaming `gen` (the generator the handler's call made)."""
        if self.kind == "sse":
            response = EventSourceResponse(gen, status_code=status_code, ping=ping)
            response.encode = self._event
            return response
        if self.kind == "jsonl":
            lines = _async_map(gen, self._line) if hasattr(gen, "__aiter__") else map(self._line, gen)
            return _streaming(lines, status_code, "application/jsonl")
        if hasattr(gen, "__aiter__"):
            gen = _async_map(gen, None)
        return self.response_class(content=gen, status_code=status_code)  # type: ignore[call-arg]


def _streaming(content: Any, status_code: int, media_type: str) -> Response:
    return StreamingResponse(content, status_code=status_code, media_type=media_type)


async def _async_map(gen: AsyncIterable[Any], fn: Callable[[Any], Any] | None) -> AsyncIterator[Any]:
    """Each item, converted; a generator that never awaits still lets a cancellation in
    between two items (the event loop gets a turn), so a client that left stops it."""
    try:
        async for item in gen:
            yield item if fn is None else fn(item)
            await asyncio.sleep(0)
    finally:
        aclose = getattr(gen, "aclose", None)
        if aclose is not None:
            await aclose()
