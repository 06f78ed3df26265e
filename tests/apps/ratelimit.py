"""An app whose limits live in Redis, for the cross-process and failure tests: the Redis URL,
key prefix, failure policy and trusted proxies come from the environment the test sets."""

from __future__ import annotations

import os

from covet import Covet, Depends
from covet.ratelimit import MemoryBackend, RateLimit, RedisBackend, client_ip, global_key

redis = RedisBackend(
    os.environ.get("COVET_TEST_RL_REDIS", "redis://127.0.0.1:6379/0"),
    prefix=os.environ.get("COVET_TEST_RL_PREFIX", "covet-test:ratelimit:app:"),
)
fail_open = os.environ.get("COVET_TEST_RL_FAIL_OPEN", "1") == "1"
trusted = [p for p in os.environ.get("COVET_TEST_RL_TRUSTED", "").split(",") if p]
limit = os.environ.get("COVET_TEST_RL_LIMIT", "20/hour")

shared = RateLimit(limit, key=global_key, scope="shared", backend=redis, fail_open=fail_open)
per_ip = RateLimit("3/hour", key=client_ip(trusted), backend=MemoryBackend())

app = Covet()


@app.get("/limited", dependencies=[Depends(shared)])
async def limited() -> dict[str, bool]:
    return {"ok": True}


@app.get("/ip", dependencies=[Depends(per_ip)])
async def ip() -> dict[str, bool]:
    return {"ok": True}


@app.get("/free")
async def free() -> dict[str, bool]:
    return {"ok": True}
