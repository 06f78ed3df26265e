"""Rate limits and JWT checks answered by the Rust engine: a refused request never reaches
Python (the handler does not run; on covet's server no Python function runs at all), the
answers are byte for byte those of the Python path, and the same holds under TestClient,
covet's server and uvicorn."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from covet import Covet, Depends
from covet.jwt import HMACKey, JWTAuth
from covet.middleware import BaseHTTPMiddleware
from covet.ratelimit import MemoryBackend, RateLimitMiddleware, client_ip, global_key
from covet.testclient import TestClient
from tests.apps.engine_guards import AUDIENCE, ISSUER, LIMIT, SECRET
from tests.conftest import served_three_ways, start_server

client = served_three_ways("tests.apps.engine_guards:app", testclient_peer=("127.0.0.1", 50000))
signer = JWTAuth(HMACKey(SECRET, kid="k1"), audience=AUDIENCE, issuer=ISSUER)


def calls(c: httpx.Client) -> dict[str, int]:
    return dict(c.get("/calls").json())


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- rate limit ---------------------------------------------------------------------------------


def test_burst_then_429_without_running_the_handler(client: httpx.Client) -> None:
    key = {"x-api-key": uuid.uuid4().hex}
    before = calls(client)["limited"]
    answers = [client.get("/limited", headers=key) for _ in range(LIMIT + 2)]
    assert [r.status_code for r in answers] == [200] * LIMIT + [429, 429]
    assert calls(client)["limited"] - before == LIMIT, "refused requests never reach the handler"
    assert [r.headers["ratelimit-remaining"] for r in answers[:LIMIT]] == ["2", "1", "0"]
    ok, refused = answers[0], answers[LIMIT]
    assert ok.headers["ratelimit-limit"] == "3" and ok.headers["ratelimit-policy"] == "3;w=60"
    assert refused.json() == {"detail": "Rate limit exceeded: 3 per minute"}
    assert refused.headers["content-type"] == "application/json"
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert refused.headers["ratelimit-remaining"] == "0"


def test_exempt_paths_are_not_counted(client: httpx.Client) -> None:
    key = {"x-api-key": uuid.uuid4().hex}
    for _ in range(LIMIT):
        assert client.get("/limited", headers=key).status_code == 200
    assert client.get("/limited", headers=key).status_code == 429
    for _ in range(LIMIT + 1):
        health = client.get("/health", headers=key)
        assert health.status_code == 200 and "ratelimit-limit" not in health.headers
    assert client.get("/limited/", headers=key).status_code == 429, "unknown paths count too"


def test_per_client_ip_behind_a_trusted_proxy(client: httpx.Client) -> None:
    one, two = f"203.0.113.{uuid.uuid4().int % 250}", f"2001:db8:{uuid.uuid4().int % 65000:x}::1"
    for _ in range(LIMIT):
        assert client.get("/limited", headers={"x-forwarded-for": one}).status_code == 200
    assert client.get("/limited", headers={"x-forwarded-for": one}).status_code == 429
    # A client writing its own hop further left does not escape: the proxy's entry counts.
    spoofed = client.get("/limited", headers={"x-forwarded-for": f"198.51.100.1, {one}"})
    assert spoofed.status_code == 429
    assert client.get("/limited", headers={"x-forwarded-for": two}).status_code == 200


def test_no_python_runs_for_a_refusal_on_covets_server() -> None:
    server = start_server("tests.apps.engine_guards:app", "--no-access-log", kind="covet")
    try:
        with server.client() as c:
            key = {"x-api-key": uuid.uuid4().hex}
            for _ in range(LIMIT):
                assert c.get("/limited", headers=key).status_code == 200
            assert c.get("/probe/start").status_code == 200
            assert [c.get("/limited", headers=key).status_code for _ in range(5)] == [429] * 5
            assert c.get("/jwt/me").status_code == 401
            assert c.get("/health").status_code == 200  # a request that does run Python
            recorded = c.get("/probe/stop").json()
    finally:
        server.stop()
    assert [name.rsplit(":", 1)[1] for name in recorded] == ["health"], recorded


def test_429_bytes_match_the_python_path() -> None:
    def served(backend: MemoryBackend | None) -> list[httpx.Response]:
        app = Covet()

        @app.get("/x")
        async def x() -> dict[str, int]:
            return {"x": 1}

        app.add_middleware(RateLimitMiddleware, rate="2/hour", key=global_key, backend=backend)
        assert (app.compile().policy is not None) == (backend is None)
        with TestClient(app) as c:
            return [c.get("/x") for _ in range(3)]

    # An injected clock keeps the rule in Python; the default backend runs it in the engine.
    python_path = served(MemoryBackend(clock=lambda: time.monotonic()))
    engine_path = served(None)
    for p, e in zip(python_path, engine_path, strict=True):
        drop = {b"date"}
        assert [h for h in p.headers.raw if h[0] not in drop] == [h for h in e.headers.raw if h[0] not in drop]
        assert (p.status_code, p.content) == (e.status_code, e.content)


def test_what_stays_in_python() -> None:
    def policy(**options: Any) -> Any:
        app = Covet()
        app.add_middleware(RateLimitMiddleware, rate="5/minute", **options)
        return app.compile().policy

    assert policy() is not None
    assert policy(key=client_ip(["10.0.0.0/8"])) is not None
    assert policy(scope="route") is None, "a bucket per route needs the route: Python"
    assert policy(key=lambda request: "mine") is None
    assert policy(engine=False) is None
    assert policy(backend=MemoryBackend(clock=lambda: 1.0)) is None


# --- JWT ------------------------------------------------------------------------------------------


def attacks() -> dict[str, tuple[dict[str, str], str]]:
    good = signer.encode({"sub": "ada"}, token_type="access")
    head, body, sig = good.split(".")
    forged = signer.encode({"sub": "root"}, token_type="access").split(".")[1]
    other_aud = JWTAuth(HMACKey(SECRET, kid="k1"), audience="elsewhere", issuer=ISSUER)
    expired = signer.encode({"sub": "ada"}, lifetime=-5, token_type="access")
    refresh = signer.encode({"sub": "ada"}, token_type="refresh")
    return {
        "missing": ({}, "Not authenticated"),
        "not bearer": ({"authorization": f"Basic {good}"}, "Not authenticated"),
        "alg none": (bearer(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{body}."), "Invalid token: "),
        "expired": (bearer(expired), "Invalid token: token has expired"),
        "tampered": (bearer(f"{head}.{forged}.{sig}"), "Invalid token: signature verification failed"),
        "wrong aud": (bearer(other_aud.encode({"sub": "ada"})), "Invalid token: token audience is not accepted"),
        "refresh as access": (bearer(refresh), "Invalid token: expected a access token"),
    }


@pytest.mark.parametrize("attack", list(attacks()))
def test_attacks_get_401_without_running_the_handler(client: httpx.Client, attack: str) -> None:
    headers, detail = attacks()[attack]
    before = calls(client)["me"]
    r = client.get("/jwt/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["detail"].startswith(detail)
    challenge = r.headers["www-authenticate"]
    assert (
        challenge == "Bearer" if detail == "Not authenticated" else challenge.startswith('Bearer error="invalid_token"')
    )
    assert calls(client)["me"] == before


def test_a_valid_token_reaches_the_handler_with_its_claims(client: httpx.Client) -> None:
    before = calls(client)["me"]
    r = client.get("/jwt/me", headers=bearer(signer.encode({"sub": "ada"}, token_type="access")))
    assert r.status_code == 200 and r.json() == {"sub": "ada", "aud": AUDIENCE}
    assert calls(client)["me"] == before + 1


def test_scopes_and_revocation_are_still_checked(client: httpx.Client) -> None:
    plain = signer.encode({"sub": "ada"}, token_type="access")
    assert client.get("/jwt/admin", headers=bearer(plain)).status_code == 403
    admin = signer.encode({"sub": "root", "scope": "admin"}, token_type="access")
    assert client.get("/jwt/admin", headers=bearer(admin)).status_code == 200
    assert client.post("/jwt/logout", headers=bearer(admin)).status_code == 200
    r = client.get("/jwt/admin", headers=bearer(admin))
    assert r.status_code == 401 and r.json() == {"detail": "Invalid token: token has been revoked"}


def test_the_engine_hands_the_verified_claims_to_the_dependency() -> None:
    # A token the engine verified is not verified again: JWTAuth.decode is never called.
    auth = JWTAuth(HMACKey(SECRET), audience=AUDIENCE)
    decoded: list[str] = []
    original = auth.decode

    def counting_decode(token: str, **kw: Any) -> dict[str, Any]:
        decoded.append(token)
        return original(token, **kw)

    auth.decode = counting_decode  # type: ignore[method-assign]
    app = Covet()

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(auth)) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    token = auth.encode({"sub": "ada"}, token_type="access")
    with TestClient(app) as c:
        assert c.get("/me", headers=bearer(token)).json() == {"sub": "ada"}
    assert decoded == []


def test_python_middleware_and_overrides_leave_the_check_to_python() -> None:
    auth = JWTAuth(HMACKey(SECRET), audience=AUDIENCE)
    seen: list[int] = []

    async def record(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        seen.append(response.status_code)
        return response

    app = Covet()

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(auth)) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    app.add_middleware(BaseHTTPMiddleware, dispatch=record)
    with TestClient(app) as c:
        assert c.get("/me").status_code == 401
    assert seen == [401], "a Python middleware sees the 401"

    plain = Covet()
    plain.add_api_route("/me", me)
    with TestClient(plain) as c:
        assert c.get("/me").status_code == 401
        plain.dependency_overrides[auth] = lambda: {"sub": "tester"}
        assert c.get("/me").json() == {"sub": "tester"}
        plain.dependency_overrides.clear()
        assert c.get("/me").status_code == 401


def test_engine_check_off() -> None:
    auth = JWTAuth(HMACKey(SECRET), audience=AUDIENCE, engine_check=False)
    app = Covet()

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(auth)) -> dict[str, Any]:
        return claims

    from covet.jwt.guard import route_guards

    pipeline = app.compile()  # builds the routes
    assert route_guards(app, pipeline.compiled.served, pipeline.chain is not None) == [None] * len(
        pipeline.compiled.served
    )
    with TestClient(app) as c:
        assert c.get("/me").status_code == 401
