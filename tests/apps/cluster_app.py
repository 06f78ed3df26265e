"""One app served as two `covet run --workers 2` instances behind nginx (tests/test_many_instances.py):
everything it shares lives in Redis or PostgreSQL. COVET_INSTANCE names the instance in every
answer; COVET_CLUSTER_PREFIX keeps one test run's keys apart from any other's."""

from __future__ import annotations

import os
from typing import Any

from covet import Covet, Depends, Request, WebSocket
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

app = Covet(on_shutdown=[channels.close, sessions.aclose])
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


@app.websocket("/rooms/{room}")
async def room(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    await channels.join(room, websocket)
    await websocket.send_json({"joined": room, **who()})
    async for text in websocket.iter_text():
        await channels.send_json(room, {"text": text, **who()})
