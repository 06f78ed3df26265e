"""Scenario 3: sessions (RedisSessionBackend) and JWT revocation checks (RedisRevocationStore)
on the Redis at CHAOS_REDIS_URL, which the harness kills and freezes."""

from __future__ import annotations

import os
from typing import Any

from covet import Covet, Depends, Request
from covet.jwt import HMACKey, JWTAuth, RedisRevocationStore
from covet.sessions import RedisSessionBackend, SessionMiddleware

REDIS_URL = os.environ["CHAOS_REDIS_URL"]
SECRET = "chaos-secret-key-that-is-long-enough-0123456789"

jwt_auth = JWTAuth(
    HMACKey(SECRET, kid="chaos"),
    issuer="covet-chaos",
    revocation_store=RedisRevocationStore(REDIS_URL, prefix="covet-chaos:jwt:"),
)
sessions = RedisSessionBackend(REDIS_URL, prefix="covet-chaos:session:")
app = Covet()
app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=sessions)
app.on_event("shutdown")(sessions.aclose)


@app.get("/count")
async def count(request: Request) -> dict[str, int]:
    request.session["n"] = request.session.get("n", 0) + 1
    return {"n": request.session["n"]}


@app.post("/login/{user}")
async def login(user: str) -> dict[str, Any]:
    pair = await jwt_auth.create_token_pair(user)
    return pair.to_response()


@app.get("/me")
async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
    return {"sub": claims["sub"]}
