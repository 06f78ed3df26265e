"""One app served as two `covet run --workers 2` instances behind nginx (tests/test_many_instances.py):
everything it shares lives in Redis or PostgreSQL. COVET_INSTANCE names the instance in every
answer; COVET_CLUSTER_PREFIX keeps one test run's keys apart from any other's."""

from __future__ import annotations

import os
from typing import Any

from covet import Covet, Depends, Request, WebSocket
from covet.cache import Cache, MemoryLevel, RedisLevel
from covet.channels import Channels
from covet.channels import RedisBackend as ChannelsBackend
from covet.jobs import JobHandle, Jobs
from covet.jwt import HMACKey, JWTAuth, RedisRevocationStore
from covet.ratelimit import RateLimit, RedisBackend, global_key
from covet.sessions import RedisSessionBackend, SessionMiddleware

REDIS_URL = "redis://127.0.0.1:6379/0"
PREFIX = os.environ.get("COVET_CLUSTER_PREFIX", "covet-test:cluster")
INSTANCE = os.environ.get("COVET_INSTANCE", "?")
SECRET = "cluster-test-secret-that-is-long-enough-0123456789"

jwt_auth = JWTAuth(
    HMACKey(SECRET, kid="cluster"),
    issuer="covet-cluster",
    revocation_store=RedisRevocationStore(prefix=f"{PREFIX}:jwt:"),
)
limit = RateLimit("5/hour", key=global_key, scope="cluster", backend=RedisBackend(REDIS_URL, prefix=f"{PREFIX}:rl:"))
channels = Channels(ChannelsBackend(REDIS_URL, prefix=f"{PREFIX}:rooms"), sweep_interval=0.2)
jobs = Jobs(REDIS_URL, queue=f"{PREFIX}-jobs")
sessions = RedisSessionBackend(REDIS_URL, prefix=f"{PREFIX}:sessions:")
# Memory in each worker in front of Redis: an invalidation must reach every process's memory.
cache = Cache(MemoryLevel(max_items=1000), RedisLevel(REDIS_URL), namespace=f"{PREFIX}-cache", ttl=600)

app = Covet(on_shutdown=[channels.close, sessions.aclose, cache.aclose])
app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=sessions)
jobs.init_app(app)


def who() -> dict[str, Any]:
    return {"instance": INSTANCE, "pid": os.getpid()}


@jobs.job
async def double(n: int) -> dict[str, Any]:
    return {"double": 2 * n, **who()}


@app.get("/who")
async def whoami() -> dict[str, Any]:
    return who()


@app.post("/session/{value}")
async def remember(request: Request, value: str) -> dict[str, Any]:
    request.session["value"] = value
    return who()


@app.get("/session")
async def recall(request: Request) -> dict[str, Any]:
    return {"value": request.session.get("value"), **who()}


@app.post("/login/{user}")
async def login(user: str) -> dict[str, Any]:
    return (await jwt_auth.create_token_pair(user)).to_response()


@app.get("/me")
async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
    return {"sub": claims["sub"], **who()}


@app.post("/logout")
async def logout(request: Request, claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
    await jwt_auth.revoke(request.headers["Authorization"].split()[1])
    return who()


@app.get("/limited", dependencies=[Depends(limit)])
async def limited() -> dict[str, Any]:
    return who()


@app.post("/jobs/double/{n}")
async def enqueue_double(n: int) -> dict[str, Any]:
    return {"id": (await double.enqueue(n)).id, **who()}


@app.get("/jobs/{job_id}")
async def job_result(job_id: str) -> dict[str, Any]:
    return {"result": await JobHandle(job_id, jobs).result(timeout=20), **who()}


@app.get("/price/{item}")
async def price(item: str) -> dict[str, Any]:
    value = await cache.get(f"price:{item}")
    if value is None:
        value = {"price": int(await store().get(f"{PREFIX}:price:{item}") or 0), "by": INSTANCE}
        await cache.set(f"price:{item}", value, tags=[f"item:{item}"])
    return {**value, **who()}


@app.post("/price/{item}/{amount}")
async def set_price(item: str, amount: int) -> dict[str, Any]:
    await store().set(f"{PREFIX}:price:{item}", amount)
    await cache.invalidate(tags=[f"item:{item}"])  # every level, every process of every instance
    return who()


def store() -> Any:
    import redis.asyncio

    global _store
    if _store is None:
        _store = redis.asyncio.Redis.from_url(REDIS_URL)
    return _store


_store: Any = None


@app.websocket("/rooms/{room}")
async def room(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    await channels.join(room, websocket)
    await websocket.send_json({"joined": room, **who()})
    async for text in websocket.iter_text():
        await channels.send_json(room, {"text": text, **who()})
