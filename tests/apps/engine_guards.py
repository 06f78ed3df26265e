"""An app whose rate limit and JWT checks run in the engine, served three ways by
tests/test_engine_guards.py. Handlers count their calls, so a test can tell that a refused
request never reached them; /probe/* records which Python functions run between two requests."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from covet import Covet, Depends, Request, Security
from covet.jwt import HMACKey, JWTAuth
from covet.ratelimit import RateLimitMiddleware, api_key, client_ip

SECRET = b"engine-guards-test-secret-0123456789"
AUDIENCE = "covet-tests"
ISSUER = "https://issuer.example"
LIMIT = 3

auth = JWTAuth(HMACKey(SECRET, kid="k1"), audience=AUDIENCE, issuer=ISSUER)
calls: dict[str, int] = {"limited": 0, "me": 0, "admin": 0}
recorded: list[str] = []

app = Covet()
app.add_middleware(
    RateLimitMiddleware,
    rate=f"{LIMIT}/minute",
    # Each test sends an API key of its own (its own bucket); without one, the client address,
    # read from X-Forwarded-For when the peer is the loopback proxy.
    key=api_key("x-api-key", fallback=client_ip(trusted_proxies=["127.0.0.1"])),
    exempt=["/calls", "/health", "/jwt", "/probe"],
)


@app.get("/limited")
async def limited() -> dict[str, str]:
    calls["limited"] += 1
    return {"ok": "yes"}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "up"}


@app.get("/calls")
async def get_calls() -> dict[str, int]:
    return calls


@app.get("/jwt/me")
async def me(claims: dict[str, Any] = Depends(auth)) -> dict[str, Any]:
    calls["me"] += 1
    return {"sub": claims["sub"], "aud": claims["aud"]}


@app.get("/jwt/admin")
async def admin(claims: dict[str, Any] = Security(auth, scopes=["admin"])) -> dict[str, Any]:
    calls["admin"] += 1
    return {"sub": claims["sub"]}


@app.post("/jwt/logout")
async def logout(request: Request) -> dict[str, str]:
    token = request.headers["authorization"].partition(" ")[2]
    await auth.revoke(token)
    return {"revoked": "yes"}


def _record(frame: FrameType, event: str, arg: Any) -> None:
    if event == "call":
        recorded.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")


@app.get("/probe/start")
async def probe_start() -> dict[str, str]:
    """From now on, every Python function called on this (the server's) thread is recorded."""
    recorded.clear()
    sys.setprofile(_record)
    return {"recording": "yes"}


@app.get("/probe/stop")
async def probe_stop() -> list[str]:
    sys.setprofile(None)
    return [name for name in recorded if not name.endswith(":probe_stop")]
