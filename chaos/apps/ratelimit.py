"""Scenario 2: one limit (CHAOS_RATE, default 100/minute) for everyone, kept in the Redis at
CHAOS_REDIS_URL, which every process serving this app shares."""

from __future__ import annotations

import os

from covet import Covet, Depends
from covet.ratelimit import RateLimit, RedisBackend, global_key

backend = RedisBackend(os.environ["CHAOS_REDIS_URL"], prefix="covet-chaos:ratelimit:")
limit = RateLimit(os.environ.get("CHAOS_RATE", "100/minute"), key=global_key, scope="chaos", backend=backend)

app = Covet()


@app.get("/limited", dependencies=[Depends(limit)])
async def limited() -> dict[str, bool]:
    return {"ok": True}
