"""Scenario 1: fast and slow handlers, so SIGTERM lands with requests in flight."""

from __future__ import annotations

import asyncio

from covet import Covet

app = Covet()


@app.get("/fast")
async def fast() -> dict[str, bool]:
    return {"ok": True}


@app.get("/slow")
async def slow(ms: int = 500) -> dict[str, int]:
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}
