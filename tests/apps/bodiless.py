"""Routes whose status forbids a body (204, 304), returning None or a value, for
tests/test_bodiless_status.py."""

from __future__ import annotations

from covet import Covet

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
