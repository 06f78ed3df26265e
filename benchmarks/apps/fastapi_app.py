"""FastAPI reference app: the endpoints as a FastAPI user would write them.

covet's headline ratio is taken against FastAPI, so this must stay idiomatic (typed
parameters, dict return values) rather than hand-tuned: tuning it would flatter nobody.
"""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

app = FastAPI()


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    """Serialise a small dict: measures routing plus the default JSON response path."""
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    """Return raw text: measures the framework without JSON encoding."""
    return PlainTextResponse("Hello, World!")


@app.get("/users/{uid}")
async def user(uid: int, q: str | None = None) -> dict[str, int | str | None]:
    """Typed path and query parameters: measures parameter parsing and validation."""
    return {"uid": uid, "q": q}


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.post("/items/{item_id}")
async def create_item(item_id: int, item: Item) -> dict[str, object]:
    """A pydantic body validated from the raw bytes: measures body parsing and validation."""
    return {"id": item_id, **item.model_dump()}
