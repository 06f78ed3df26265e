"""Every Redis user in covet on one Redis (the test's own, `COVET_TEST_REDIS`), for the outage
tests and `make chaos`: sessions (`/count`), JWT revocation (`/me`) and a shared rate limit (`/limited`)."""

from __future__ import annotations

import os
from typing import Any

from covet import Covet, Depends, Request
from covet.jwt import HMACKey, JWTAuth, RedisRevocationStore
from covet.ratelimit import RateLimit, RedisBackend, global_key
from covet.sessions import RedisSessionBackend, SessionMiddleware

URL = os.environ["COVET_TEST_REDIS"]

jwt_auth = JWTAuth(
    HMACKey("outage-test-secret-that-is-long-enough-0123456789", kid="k"),
    issuer="covet-test",
    revocation_store=RedisRevocationStore(URL),
)
limit = RateLimit("1000/minute", key=global_key, scope="outage", backend=RedisBackend(URL), fail_open=False)

app = Covet()
app.add_middleware(
    SessionMiddleware, secret_key="outage-test-secret-that-is-long-enough-0123456789", backend=RedisSessionBackend(URL)
)


@app.get("/count")
async def count(request: Request) -> dict[str, int]:
    request.session["n"] = request.session.get("n", 0) + 1
    return {"n": request.session["n"]}


@app.get("/free")
async def free() -> dict[str, bool]:
    """No session touched (no cookie sent), no token, no limit: never needs Redis."""
    return {"ok": True}


@app.post("/login/{user}")
async def login(user: str) -> dict[str, Any]:
    pair = await jwt_auth.create_token_pair(user)
    return pair.to_response()


@app.get("/me")
async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
    return {"sub": claims["sub"]}


@app.get("/limited", dependencies=[Depends(limit)])
async def limited() -> dict[str, bool]:
    return {"ok": True}
