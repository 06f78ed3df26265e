"""Request ids and access lines (`covet.logs.request_logging`): a route that logs a line of
its own and answers the id it sees, a route whose responses the engine answers from the
response cache, and JSON lines on stderr (configured here, so uvicorn writes them the same)."""

from __future__ import annotations

import logging
from collections import Counter

from covet import Covet
from covet.cache import Cache, CachePolicy, MemoryLevel
from covet.logs import configure_logging, current_request_id, request_logging

configure_logging("INFO", json_lines=True)
app = Covet()
runs: Counter[str] = Counter()
cache = Cache(MemoryLevel(100), namespace="request-ids")


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, object]:
    logging.getLogger("shop").warning("item %d", item_id)
    return {"id": item_id, "request_id": current_request_id()}


@app.get("/cached", cache=CachePolicy(cache, ttl=60))
async def cached() -> dict[str, object]:
    runs["cached"] += 1
    return {"run": runs["cached"], "request_id": current_request_id()}


request_logging(app)
