"""Login with a password, get an access/refresh token pair, refresh it, log out.

    covet run examples.jwt_login.app:app

Passwords are Argon2id hashes (covet.passwords), tokens are EdDSA-signed JWTs (covet.jwt).
Set COVET_JWT_REDIS (e.g. redis://127.0.0.1:6379/0) to keep revocations in Redis, shared by
every worker and server; without it they live in this process only."""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import BaseModel

from covet import Covet, Depends, HTTPException
from covet.concurrency import run_in_threadpool
from covet.jwt import EdDSAKey, InvalidTokenError, JWTAuth, MemoryRevocationStore, RedisRevocationStore
from covet.passwords import PasswordHasher
from covet.security import OAuth2PasswordRequestForm

hasher = PasswordHasher()
# A real deployment loads its key from a secret store: EdDSAKey(pem_text, kid="2025-01").
signing_key = EdDSAKey.generate(kid="example")
redis_url = os.environ.get("COVET_JWT_REDIS")
jwt_auth = JWTAuth(
    signing_key,
    issuer="jwt-login-example",
    audience="jwt-login-example",
    access_lifetime=15 * 60,
    revocation_store=RedisRevocationStore(redis_url) if redis_url else MemoryRevocationStore(),
)

# username -> (password hash, scopes). A real app keeps these in its database.
USERS: dict[str, tuple[str, list[str]]] = {
    "ada": (hasher.hash("lovelace"), ["profile", "admin"]),
    "bob": (hasher.hash("builder"), ["profile"]),
}

app = Covet(title="JWT login example")
jwt_auth.add_jwks_route(app)


class RefreshRequest(BaseModel):
    refresh_token: str


@app.post("/token")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    user = USERS.get(form.username)
    # Hash even for unknown users, so the answer takes as long either way.
    stored = user[0] if user else USERS["bob"][0]
    ok, new_hash = await run_in_threadpool(hasher.verify_and_update, form.password, stored)
    if not (user and ok):
        raise HTTPException(401, "Incorrect username or password", headers={"WWW-Authenticate": "Bearer"})
    if new_hash:  # the cost parameters were raised since this hash was made
        USERS[form.username] = (new_hash, user[1])
    pair = await jwt_auth.create_token_pair(form.username, scopes=user[1])
    return pair.to_response()


@app.post("/token/refresh")
async def refresh(body: RefreshRequest) -> dict[str, Any]:
    try:
        pair = await jwt_auth.refresh(body.refresh_token)
    except InvalidTokenError as exc:
        raise HTTPException(401, f"Invalid refresh token: {exc}", headers={"WWW-Authenticate": "Bearer"}) from None
    return pair.to_response()


@app.post("/logout")
async def logout(body: RefreshRequest, claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, str]:
    """Ends this session: the refresh token's family (and so every token of this login)."""
    try:
        await jwt_auth.revoke(body.refresh_token)
    except InvalidTokenError:
        pass  # an unusable refresh token needs no revoking
    await jwt_auth.revoke_jti(claims["jti"], claims["exp"])
    return {"status": "logged out"}


@app.post("/logout/all")
async def logout_everywhere(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, str]:
    await jwt_auth.logout_everywhere(claims["sub"])
    return {"status": "logged out everywhere"}


@app.get("/me")
async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
    return {"user": claims["sub"], "scope": claims.get("scope", "")}


@app.get("/admin")
async def admin(claims: Annotated[dict[str, Any], jwt_auth.requires("admin")]) -> dict[str, str]:
    return {"welcome": claims["sub"]}
