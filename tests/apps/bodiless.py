"""Routes whose status forbids a body (204, 304), returning None or a value, for
tests/test_bodiless_status.py."""

from __future__ import annotations

from covet import Covet, Response

app = Covet()


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int) -> None:
    return None


@app.delete("/quiet", status_code=204)
def delete_sync():
    pass


@app.get("/unchanged", status_code=304)
async def unchanged() -> dict[str, int]:
    return {"ignored": 1}


@app.get("/ok")
async def ok() -> dict[str, int]:
    return {"a": 1}


@app.delete("/overridden/{item_id}", status_code=204, response_model=None)
async def overridden(item_id: int, response: Response) -> dict[str, object]:
    """The handler sets another status: its value is the body, as in FastAPI."""
    response.status_code = 400
    return {"msg": "refused", "id": item_id}


@app.post("/emptied", status_code=200)
async def emptied(response: Response) -> dict[str, int]:
    """The handler sets a bodiless status: no body."""
    response.status_code = 204
    return {"ignored": 1}
