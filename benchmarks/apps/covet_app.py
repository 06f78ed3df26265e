"""covet app: the peers' endpoints, written with covet's FastAPI-like API.

The bytes on the wire must match the other apps exactly, so the comparison is like
for like.
"""

from covet import Covet, Request
from covet.responses import PlainTextResponse

app = Covet()


@app.get("/json")
async def json_endpoint() -> dict:
    """Serialise a small dict: measures routing plus the default JSON response path."""
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    """Return raw text: measures the framework without JSON encoding."""
    return PlainTextResponse("Hello, World!")


# The typed-parameter form `async def user(uid: int, q: str | None = None)` replaces
# this request-based handler once covet's typed API lands.
@app.get("/users/{uid:int}")
async def user(request: Request) -> dict:
    """Path and query parameters: measures parameter extraction."""
    return {"uid": request.path_params["uid"], "q": request.query_params.get("q")}
