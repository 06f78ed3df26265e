"""An app with engine metrics on, a metric of its own, and routes that answer 2xx, 4xx and 5xx."""

from covet import Covet, HTTPException
from covet.metrics import Counter, instrument

app = Covet()
lookups = Counter("app_item_lookups", "Items looked up by the handler", ["found"])


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    if item_id >= 1000:
        lookups.labels("no").inc()
        raise HTTPException(404, "No such item")
    lookups.labels("yes").inc()
    return {"id": item_id}


@app.post("/echo")
async def echo(body: dict[str, str]) -> dict[str, str]:
    return body


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("a bug")


metrics = instrument(app)


async def legacy(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    """A plain ASGI app mounted under /legacy."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"legacy"})  # type: ignore[operator]


app.mount("/legacy", legacy)
