"""Server-sent events endpoints for tests/test_sse.py.

Streams that must be stopped by the client leaving wait an hour between events and send no
pings, so nothing but the server's disconnect signal can end them within a test. Each stream
takes a `key`; `/closed/{key}` says whether its generator's `finally` has run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel

from covet import Covet, Header, Request
from covet.responses import JSONResponse, Response
from covet.sse import EventSourceResponse, ServerSentEvent, last_event_id

app = Covet()
logger = logging.getLogger("tests.sse")

STARTED: set[str] = set()
CLOSED: set[str] = set()


class Point(BaseModel):
    x: int
    y: int


@app.get("/events")
async def events() -> EventSourceResponse:
    async def gen() -> AsyncIterator[object]:
        yield "hello"
        yield ServerSentEvent(raw_data="two\nlines\r\nand\rthree", event="multi", id=7, retry=2500)
        yield ServerSentEvent(comment="just a comment")
        yield {"a": 1, "b": [True, None]}
        yield Point(x=1, y=2)
        yield 42

    return EventSourceResponse(gen())


@app.get("/sync")
def sync_events() -> EventSourceResponse:
    return EventSourceResponse(iter(["a", "b", ServerSentEvent(raw_data="c", event="end")]))


@app.get("/ping")
async def ping(every: float = 0.05) -> EventSourceResponse:
    async def gen() -> AsyncIterator[str]:
        yield "first"
        await asyncio.sleep(every * 4)
        yield "second"

    return EventSourceResponse(gen(), ping=every)


@app.get("/resume")
async def resume(
    request: Request, last_event_id_header: str | None = Header(None, alias="Last-Event-ID")
) -> EventSourceResponse:
    start = int(last_event_id(request) or 0) + 1

    async def gen() -> AsyncIterator[ServerSentEvent]:
        for n in range(start, start + 3):
            yield ServerSentEvent({"n": n, "header": last_event_id_header}, id=n)

    return EventSourceResponse(gen())


@app.get("/forever/{key}")
async def forever(key: str) -> EventSourceResponse:
    async def gen() -> AsyncIterator[str]:
        STARTED.add(key)
        try:
            yield "started"
            while True:
                await asyncio.sleep(3600)
                yield "tick"
        finally:
            CLOSED.add(key)
            logger.warning("stream %s closed", key)

    return EventSourceResponse(gen(), ping=None)


@app.get("/forever-sync/{key}")
def forever_sync(key: str) -> EventSourceResponse:
    def gen() -> Iterator[str | ServerSentEvent]:
        STARTED.add(key)
        try:
            yield "started"
            while True:
                time.sleep(0.05)  # a blocking producer: closed after its current step
                yield ServerSentEvent(comment="idle")
        finally:
            CLOSED.add(key)

    return EventSourceResponse(gen(), ping=None)


@app.get("/boom")
async def boom() -> EventSourceResponse:
    async def gen() -> AsyncIterator[str]:
        yield "before"
        raise RuntimeError("generator failed")

    return EventSourceResponse(gen())


@app.get("/bad-event")
async def bad_event() -> EventSourceResponse:
    async def gen() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(raw_data="ok")
        yield ServerSentEvent(raw_data="x", event="bad\nevent")

    return EventSourceResponse(gen())


@app.get("/closed/{key}")
async def closed(key: str) -> dict[str, bool]:
    return {"started": key in STARTED, "closed": key in CLOSED}


@app.get("/tasks")
async def tasks() -> dict[str, int]:
    """Tasks alive on the server's loop besides this request's own."""
    return {"tasks": len(asyncio.all_tasks()) - 1}


async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI app using covet's responses as ASGI apps, as code mounted elsewhere would:
    the event stream learns of the client leaving from `receive`."""
    if scope["type"] != "http":
        return
    kind, _, key = scope["path"].strip("/").partition("/")
    if kind == "forever":
        response: Response = await forever(key)
    else:
        response = JSONResponse(await closed(key))
    await response(scope, receive, send)
