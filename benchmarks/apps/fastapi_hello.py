"""examples/hello/app.py as a FastAPI user would write it: the peer of the memory check.

Same routes, same answers (JSON, path and query parameters, an HTTPException 404, plain
text, a streamed body), written idiomatically for FastAPI, so that the resident memory of the
two servers after the same requests compares like for like.
"""

from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse, StreamingResponse

app = FastAPI()

USERS = {"1": "ada", "2": "grace"}


@app.get("/")
async def root() -> dict[str, str]:
    """A small JSON object."""
    return {"hello": "world"}


@app.get("/users/{user_id}")
async def user(user_id: str, q: str | None = None) -> dict[str, str | None]:
    """A path parameter, an optional query parameter, and a 404 for an unknown id."""
    if user_id not in USERS:
        raise HTTPException(404, "No such user")
    return {"id": user_id, "name": USERS[user_id], "q": q}


@app.get("/hello/{name}")
async def hello(name: str) -> PlainTextResponse:
    """Plain text built from a path parameter."""
    return PlainTextResponse(f"Hello, {name}!")


@app.get("/count")
async def count(n: int = 5) -> StreamingResponse:
    """A body streamed from an async generator, one line per number."""

    async def numbers() -> AsyncIterator[str]:
        for i in range(n):
            yield f"{i}\n"

    return StreamingResponse(numbers(), media_type="text/plain")
