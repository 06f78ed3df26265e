"""Generator handlers (`yield` in the handler) for tests/test_streaming_responses.py and
tests/test_dependency_scopes.py: JSON Lines, server-sent events, raw chunks, and `yield`
dependencies of both scopes around a streaming response."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Annotated, Any

from pydantic import BaseModel

from covet import Covet, Depends, HTTPException, Response
from covet.responses import StreamingResponse
from covet.sse import EventSourceResponse, ServerSentEvent

app = Covet()


class Item(BaseModel):
    name: str
    note: str | None = None


@app.get("/jsonl", response_model_exclude_none=True)
async def jsonl() -> AsyncIterable[Item]:
    yield Item(name="a")
    yield {"name": "b", "note": "dict, validated as an Item"}


@app.get("/jsonl-sync")
def jsonl_sync() -> Iterable:
    yield {"n": 1}
    yield [2, "two"]


@app.get("/jsonl-invalid")
async def jsonl_invalid() -> AsyncIterator[Item]:
    yield {"name": "fine"}
    yield {"name": ["not", "a", "str"]}


@app.get("/after-invalid")
async def after_invalid() -> dict[str, str]:
    return {"still": "serving"}


def accepted(response: Response) -> None:
    response.status_code = 202


@app.post("/created", status_code=201)
async def created() -> AsyncIterable[int]:
    yield 1


@app.post("/accepted", status_code=201)
async def accepted_stream(_: Annotated[None, Depends(accepted)]) -> AsyncIterable[int]:
    yield 1


@app.get("/events", response_class=EventSourceResponse)
async def events() -> AsyncIterable[Item]:
    yield Item(name="a")
    yield ServerSentEvent(data="text is JSON too", event="note", id="7")
    yield ServerSentEvent(raw_data="<b>as it is</b>", event="html")


@app.get("/events-sync", response_class=EventSourceResponse)
def events_sync() -> Iterator[dict[str, int]]:
    yield {"n": 1}


@app.get("/raw", response_class=StreamingResponse)
async def raw() -> AsyncIterable[str]:
    yield "chunk one, "
    yield "chunk two"


# --- dependency scopes ------------------------------------------------------------------------


class Session:
    def __init__(self) -> None:
        self.open = True


def session() -> Iterator[Session]:
    s = Session()
    yield s
    s.open = False


FunctionSession = Annotated[Session, Depends(session, scope="function")]
RequestSession = Annotated[Session, Depends(session, scope="request")]
DefaultSession = Annotated[Session, Depends(session)]


@app.get("/scopes")
def scopes(function: FunctionSession, request: RequestSession, default: DefaultSession) -> Iterator[dict[str, bool]]:
    # Runs as the response is sent: the function-scoped session is already closed.
    yield {"function": function.open, "request": request.open, "shared": request is default}


@app.get("/scopes-response")
def scopes_response(function: FunctionSession, request: RequestSession) -> StreamingResponse:
    def body() -> Iterator[str]:
        yield f"{function.open} {request.open}"

    return StreamingResponse(body())


def fails_after() -> Iterator[None]:
    yield
    raise HTTPException(503, "cleaned up badly")


@app.get("/function-cleanup-fails", dependencies=[Depends(fails_after, scope="function")])
def function_cleanup_fails() -> dict[str, str]:
    return {"status": "ok"}


class Broken(Exception):
    pass


def translating() -> Iterator[str]:
    try:
        yield "x"
    except Broken as exc:
        raise HTTPException(418, "translated by the dependency") from exc


@app.get("/translated")
def translated(_: Annotated[str, Depends(translating)]) -> Any:
    raise Broken("from the handler")
