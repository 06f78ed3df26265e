"""Rate limiting an API: a global per-client limit for every route, a stricter one on login,
a per-API-key quota, and one shared by all clients.

Run: `.venv/bin/python -m covet run examples.ratelimit_api.app:app`. With `REDIS_URL` set
(e.g. redis://127.0.0.1:6379/0) the limits live in Redis and hold across `--workers N` and
across machines; without it each process counts on its own, in the engine.
"""

from __future__ import annotations

import os

from covet import Covet, Depends
from covet.ratelimit import (
    Backend,
    Limiter,
    MemoryBackend,
    RateLimit,
    RateLimitMiddleware,
    RedisBackend,
    api_key,
    client_ip,
    global_key,
)

REDIS_URL = os.environ.get("REDIS_URL")
# Behind a load balancer, list its addresses so X-Forwarded-For is believed from it (only).
TRUSTED_PROXIES = [p for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p]

backend: Backend = RedisBackend(REDIS_URL, prefix="ratelimit-api:") if REDIS_URL else MemoryBackend()
limiter = Limiter("30/minute", backend=backend, trusted_proxies=TRUSTED_PROXIES)

app = Covet(title="Rate-limited API")
# Every route: 600 requests a minute per client, 100 at once; health checks and docs are free.
app.add_middleware(
    RateLimitMiddleware,
    rate="600/minute",
    burst=100,
    backend=backend,
    trusted_proxies=TRUSTED_PROXIES,
    exempt=["/health", "/docs", "/openapi.json"],
)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/search", dependencies=[Depends(limiter)])
async def search(q: str = "") -> dict[str, object]:
    """The limiter's default rule: 30 a minute per client address, for this route."""
    return {"q": q, "results": []}


@app.post("/login")
@limiter.limit("5/minute")
async def login(username: str) -> dict[str, str]:
    """Five attempts a minute per client address: slows password guessing down."""
    return {"user": username}


quota = RateLimit("100/hour", key=api_key("x-api-key", fallback=client_ip(TRUSTED_PROXIES)), backend=backend)


@app.get("/data", dependencies=[Depends(quota)])
async def data() -> dict[str, list[int]]:
    """100 an hour per API key (anonymous callers: per address)."""
    return {"rows": [1, 2, 3]}


expensive = RateLimit("10/second", key=global_key, scope="global", backend=backend)


@app.get("/report", dependencies=[Depends(expensive)])
async def report() -> dict[str, str]:
    """Ten a second for everybody together: protects a costly backend."""
    return {"report": "ready"}
