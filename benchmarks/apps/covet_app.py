"""covet app: the peers' endpoints, written exactly as the FastAPI app is (changed imports).

The bytes on the wire must match the other apps exactly, so the comparison is like
for like.
"""

from pydantic import BaseModel

from covet import Covet
from covet.responses import PlainTextResponse

app = Covet()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    """Serialise a small dict: measures routing plus the default JSON response path."""
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    """Return raw text: measures the framework without JSON encoding."""
    return PlainTextResponse("Hello, World!")


@app.get("/users/{uid:int}")
async def user(uid: int, q: str | None = None) -> dict[str, int | str | None]:
    """Typed path and query parameters: measures parameter parsing and validation."""
    return {"uid": uid, "q": q}


@app.post("/items/{item_id}")
async def create_item(item_id: int, item: Item) -> dict[str, object]:
    """A pydantic body validated from the raw bytes: measures body parsing and validation."""
    return {"id": item_id, **item.model_dump()}
