"""Scenario 5: handlers that read bad client input (request.json(), a typed body); missing
static files are asked of covet's own /_covet/static/."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from covet import Covet, Request

app = Covet()


class Item(BaseModel):
    name: str
    n: int


@app.post("/json")
async def raw_json(request: Request) -> dict[str, Any]:
    return {"got": await request.json()}


@app.post("/model")
async def model(item: Item) -> Item:
    return item
