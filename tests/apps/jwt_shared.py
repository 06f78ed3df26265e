"""A JWT-protected app whose revocations live in Redis, for the tests that start two server
processes on one Redis: the secret and the key prefix come from the environment."""

from __future__ import annotations

import os
from typing import Any

from covet import Covet, Depends, Request
from covet.jwt import HMACKey, JWTAuth, RedisRevocationStore

jwt_auth = JWTAuth(
    HMACKey(os.environ["COVET_TEST_JWT_SECRET"], kid="shared"),
    issuer="covet-test",
    revocation_store=RedisRevocationStore(prefix=os.environ["COVET_TEST_JWT_PREFIX"]),
)
app = Covet()


@app.post("/login/{user}")
async def login(user: str) -> dict[str, Any]:
    pair = await jwt_auth.create_token_pair(user)
    return pair.to_response()


@app.get("/me")
async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
    return {"sub": claims["sub"]}


@app.post("/logout")
async def logout(request: Request, claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, bool]:
    await jwt_auth.revoke(request.headers["Authorization"].split()[1])
    return {"ok": True}


@app.post("/logout-everywhere")
async def logout_everywhere(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, bool]:
    await jwt_auth.logout_everywhere(claims["sub"])
    return {"ok": True}
