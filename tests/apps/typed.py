"""Typed endpoints for the socket-level tests of the typed API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from covet import Covet, Query

app = Covet()


class Item(BaseModel):
    name: str
    price: float
    note: str | None = None


class ItemOut(BaseModel):
    name: str
    price: float


@app.get("/users/{uid:int}")
async def user(uid: int, q: str | None = None, limit: Annotated[int, Query(gt=0)] = 10):
    return {"uid": uid, "q": q}


@app.post("/items/{item_id}", status_code=201)
async def create(item_id: int, item: Item) -> dict[str, object]:
    return {"id": item_id, **item.model_dump()}


@app.get("/model")
async def model() -> ItemOut:
    return Item(name="m", price=1, note="hidden")  # type: ignore[return-value]
