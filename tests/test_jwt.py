"""covet.jwt through the real engine, real Redis and real server processes."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from covet import Covet, Depends, Security
from covet.jwt import (
    JWT,
    DecodeError,
    ECKey,
    EdDSAKey,
    ExpiredSignatureError,
    HMACKey,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    JWTAuth,
    MemoryRevocationStore,
    RedisRevocationStore,
    RevokedTokenError,
    RSAKey,
    TokenReuseError,
    UnknownKeyError,
    WrongTokenTypeError,
)
from covet.security import SecurityScopes
from covet.testclient import TestClient

REDIS_URL = "redis://127.0.0.1:6379/0"


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate(kid="rsa-1")


KEY_MAKERS: dict[str, Callable[[str], Any]] = {
    "HS256": lambda alg: HMACKey.generate(alg),
    "HS384": lambda alg: HMACKey.generate(alg),
    "HS512": lambda alg: HMACKey.generate(alg),
    "RS256": lambda alg: RSAKey.generate(alg),
    "RS384": lambda alg: RSAKey.generate(alg),
    "RS512": lambda alg: RSAKey.generate(alg),
    "PS256": lambda alg: RSAKey.generate(alg),
    "ES256": lambda alg: ECKey.generate(alg),
    "ES384": lambda alg: ECKey.generate(alg),
    "EdDSA": lambda alg: EdDSAKey.generate(alg),
}


@pytest.mark.parametrize("algorithm", list(KEY_MAKERS))
def test_every_algorithm_round_trips(algorithm: str) -> None:
    key = KEY_MAKERS[algorithm](algorithm)
    issuer = JWT(key, issuer="covet", audience="api")
    token = issuer.encode({"sub": "ada", "role": "admin"})
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": algorithm, "typ": "JWT", "kid": key.kid}
    claims = issuer.decode(token)
    assert (claims["sub"], claims["role"], claims["iss"], claims["aud"]) == ("ada", "admin", "covet", "api")
    assert claims["exp"] > time.time()
    if not isinstance(key, HMACKey):
        verifier = JWT(key.public_key(), issuer="covet", audience="api")
        assert verifier.signing_kid is None
        assert verifier.decode(token)["sub"] == "ada"
        with pytest.raises(InvalidKeyError):
            verifier.encode({"sub": "ada"})


def test_alg_none_is_refused() -> None:
    manager = JWT(HMACKey.generate())
    payload = b64({"sub": "root", "exp": int(time.time()) + 60})
    for alg in ("none", "None", "NONE"):
        with pytest.raises(InvalidAlgorithmError) as info:
            manager.decode(f"{b64({'alg': alg, 'typ': 'JWT'})}.{payload}.")
        assert info.value.kind == "alg_none"


def test_hmac_signed_with_the_rsa_public_key_is_refused(rsa_key: RSAKey) -> None:
    public_pem = rsa_key.public_key().pem
    attacker = JWT(HMACKey(public_pem, kid=rsa_key.kid))
    forged = attacker.encode({"sub": "root"})
    verifier = JWT(rsa_key.public_key())
    with pytest.raises(InvalidAlgorithmError) as info:
        verifier.decode(forged)
    assert info.value.kind == "algorithm_not_allowed"
    lax = JWT(rsa_key.public_key(), algorithms=["RS256", "HS256"])
    with pytest.raises(InvalidAlgorithmError) as info:
        lax.decode(forged)
    assert info.value.kind == "key_algorithm_mismatch"


def test_time_window_is_enforced_with_leeway() -> None:
    key = HMACKey.generate()
    manager = JWT(key)
    expired = manager.encode({"sub": "ada"}, lifetime=-30)
    with pytest.raises(ExpiredSignatureError):
        manager.decode(expired)
    assert JWT(key, leeway=60).decode(expired)["sub"] == "ada"
    early = manager.encode({"sub": "ada", "nbf": int(time.time()) + 120})
    with pytest.raises(ImmatureSignatureError) as info:
        manager.decode(early)
    assert info.value.kind == "not_yet_valid"
    future = manager.encode({"sub": "ada", "iat": int(time.time()) + 120})
    with pytest.raises(ImmatureSignatureError) as info:
        manager.decode(future)
    assert info.value.kind == "issued_in_future"
    assert JWT(key, leeway=300).decode(future)["sub"] == "ada"


def test_wrong_audience_and_issuer_are_refused() -> None:
    key = HMACKey.generate()
    token = JWT(key, issuer="them", audience="their-api").encode({"sub": "ada"})
    with pytest.raises(InvalidAudienceError):
        JWT(key, issuer="them", audience="our-api").decode(token)
    with pytest.raises(InvalidIssuerError):
        JWT(key, issuer="us", audience="their-api").decode(token)
    with pytest.raises(InvalidAudienceError):
        JWT(key, issuer="them").decode(token)
    assert JWT(key, issuer="them", audience=["our-api", "their-api"]).decode(token)["sub"] == "ada"


def test_tampered_truncated_and_garbled_tokens_are_refused(rsa_key: RSAKey) -> None:
    manager = JWT(rsa_key)
    token = manager.encode({"sub": "ada", "admin": False})
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    promoted = b64({**claims, "admin": True})
    with pytest.raises(InvalidSignatureError):
        manager.decode(f"{header}.{promoted}.{signature}")
    with pytest.raises(InvalidSignatureError):
        manager.decode(f"{header}.{payload}.{signature[: len(signature) // 4 * 4 - 8]}")
    with pytest.raises(DecodeError) as info:
        manager.decode(f"{header}.{payload}")
    assert info.value.kind == "malformed"
    with pytest.raises(DecodeError) as info:
        manager.decode(f"{header}==.{payload}.{signature}")
    assert info.value.kind == "base64"
    with pytest.raises(DecodeError) as info:
        manager.decode(f"{b64(b'{not json')}.{payload}.{signature}")
    assert info.value.kind == "json"
    with pytest.raises(DecodeError):
        manager.decode("")


def test_kid_rotation_keeps_old_tokens_until_the_key_is_retired() -> None:
    old, new = ECKey.generate(kid="2024"), EdDSAKey.generate(kid="2025")
    old_token = JWT(old).encode({"sub": "ada"})
    rotated = JWT([new, old.public_key()])
    assert rotated.signing_kid == "2025"
    new_token = rotated.encode({"sub": "bob"})
    assert rotated.decode(old_token)["sub"] == "ada"
    assert rotated.decode(new_token)["sub"] == "bob"
    assert rotated.remove_key("2024")
    with pytest.raises(InvalidAlgorithmError):
        rotated.decode(old_token)
    unknown = ".".join([b64({"alg": "EdDSA", "kid": "1999"}), *new_token.split(".")[1:]])
    with pytest.raises(UnknownKeyError):
        rotated.decode(unknown)


def test_jwks_round_trip_publishes_public_keys_only(rsa_key: RSAKey) -> None:
    secret = HMACKey.generate(kid="secret")
    issuer = JWT([EdDSAKey.generate(kid="ed"), rsa_key, ECKey.generate("ES384", kid="ec"), secret])
    document = issuer.jwks()
    assert [k["kid"] for k in document["keys"]] == ["ed", "rsa-1", "ec"]
    assert all("d" not in k and "k" not in k for k in document["keys"])
    verifier = JWT(jwks=document)
    assert verifier.signing_kid is None
    for kid in ("ed", "rsa-1", "ec"):
        assert verifier.decode(issuer.encode({"sub": kid}, kid=kid))["sub"] == kid
    with pytest.raises(InvalidAlgorithmError):
        verifier.decode(issuer.encode({"sub": "x"}, kid="secret"))
    with pytest.raises(InvalidKeyError):
        JWT(jwks={"keys": [{"kty": "oct", "kid": "s", "alg": "HS256", "k": "c2VjcmV0"}]})
    with pytest.raises(InvalidKeyError):
        JWT(jwks="{")


def test_weak_keys_are_refused_at_configuration() -> None:
    with pytest.raises(InvalidKeyError, match="at least 32 bytes"):
        JWT(HMACKey("short"))
    with pytest.raises(InvalidKeyError, match="2048"):
        JWT(RSAKey.generate(bits=1024))
    with pytest.raises(ValueError):
        ECKey(ECKey.generate().pem, "RS256")


# revocation stores ------------------------------------------------------------------------------

StoreFactory = Callable[[], Awaitable[Any]]


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Iterator[tuple[str, StoreFactory, str]]:
    """A factory of stores (called inside the test's event loop) and the Redis key prefix."""
    prefix = f"covet-test:jwt:{uuid.uuid4().hex}:"

    async def factory() -> Any:
        if request.param == "memory":
            return MemoryRevocationStore()
        return RedisRevocationStore(aioredis.Redis.from_url(REDIS_URL), prefix=prefix)

    yield request.param, factory, prefix
    if request.param == "redis":
        asyncio.run(_delete_prefix(prefix))


async def _delete_prefix(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def test_refresh_rotates_and_reuse_revokes_the_family(make_store: tuple[str, StoreFactory, str]) -> None:
    async def scenario() -> None:
        store = await make_store[1]()
        manager = JWT(HMACKey.generate(), revocation_store=store)
        first = await manager.create_token_pair("ada", {"tenant": "t1"}, scopes=["read"])
        second = await manager.refresh(first.refresh_token)
        assert (await manager.verify(second.access_token))["tenant"] == "t1"
        assert (await manager.verify(second.access_token))["scope"] == "read"
        with pytest.raises(WrongTokenTypeError):
            await manager.verify(second.refresh_token)
        with pytest.raises(WrongTokenTypeError):
            await manager.refresh(second.access_token)
        third = await manager.refresh(second.refresh_token)
        with pytest.raises(TokenReuseError):
            await manager.refresh(first.refresh_token)
        for token in (third.access_token, second.access_token):
            with pytest.raises(RevokedTokenError):
                await manager.verify(token)
        with pytest.raises(RevokedTokenError):
            await manager.refresh(third.refresh_token)
        other = await manager.create_token_pair("ada")
        assert (await manager.verify(other.access_token))["sub"] == "ada"

    asyncio.run(scenario())


def test_logout_and_logout_everywhere(make_store: tuple[str, StoreFactory, str]) -> None:
    kind, factory, prefix = make_store

    async def scenario() -> None:
        store = await factory()
        manager = JWT(HMACKey.generate(), revocation_store=store, access_lifetime=120)
        laptop = await manager.create_token_pair("ada")
        phone = await manager.create_token_pair("ada")
        bob = await manager.create_token_pair("bob")
        await manager.revoke(laptop.access_token)
        with pytest.raises(RevokedTokenError):
            await manager.verify(laptop.access_token)
        with pytest.raises(RevokedTokenError):
            await manager.refresh(laptop.refresh_token)
        assert (await manager.verify(phone.access_token))["sub"] == "ada"
        if kind == "redis":
            jti = manager.decode(laptop.access_token)["jti"]
            ttl = await store.redis.pttl(f"{prefix}jti:{jti}")
            assert 0 < ttl <= 120_000
        await manager.logout_everywhere("ada")
        for token in (phone.access_token,):
            with pytest.raises(RevokedTokenError):
                await manager.verify(token)
        with pytest.raises(RevokedTokenError):
            await manager.refresh(phone.refresh_token)
        assert (await manager.verify(bob.access_token))["sub"] == "bob"
        after = await manager.create_token_pair("ada")
        assert (await manager.verify(after.access_token))["sub"] == "ada"
        await manager.revoke(manager.encode({"sub": "ada"}, lifetime=-5))  # expired: nothing to do
        if kind == "redis":
            await store.aclose()

    asyncio.run(scenario())


def test_a_token_revoked_on_one_server_is_refused_by_another(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"covet-test:jwt:{uuid.uuid4().hex}:"
    monkeypatch.setenv("COVET_TEST_JWT_SECRET", secrets.token_hex(32))
    monkeypatch.setenv("COVET_TEST_JWT_PREFIX", prefix)
    try:
        one, two = serve("tests.apps.jwt_shared:app"), serve("tests.apps.jwt_shared:app")
        with one.client() as a, two.client() as b:
            pair = a.post("/login/ada").json()
            auth = {"Authorization": f"Bearer {pair['access_token']}"}
            assert b.get("/me", headers=auth).json() == {"sub": "ada"}
            assert a.post("/logout", headers=auth).json() == {"ok": True}
            refused = b.get("/me", headers=auth)
            assert refused.status_code == 401
            assert refused.json() == {"detail": "Invalid token: token has been revoked"}
            second = {"Authorization": f"Bearer {b.post('/login/ada').json()['access_token']}"}
            third = {"Authorization": f"Bearer {a.post('/login/ada').json()['access_token']}"}
            assert a.get("/me", headers=second).status_code == 200
            assert b.post("/logout-everywhere", headers=second).status_code == 200
            assert a.get("/me", headers=third).status_code == 401
            assert b.get("/me", headers=second).status_code == 401
    finally:
        asyncio.run(_delete_prefix(prefix))


# the dependency --------------------------------------------------------------------------------


def make_app() -> tuple[Covet, JWTAuth]:
    jwt_auth = JWTAuth(HMACKey.generate(kid="app"), issuer="covet-test")
    app = Covet()

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    @app.get("/admin")
    async def admin(claims: dict[str, Any] = jwt_auth.requires("admin")) -> dict[str, Any]:  # noqa: B008
        return {"sub": claims["sub"]}

    optional_auth = JWTAuth(HMACKey.generate(), auto_error=False, scheme_name="OptionalJWT")

    @app.get("/maybe")
    async def maybe(claims: dict[str, Any] | None = Depends(optional_auth)) -> dict[str, Any]:
        return {"anonymous": claims is None}

    @app.get("/scoped")
    async def scoped(claims: dict[str, Any] = Security(jwt_auth, scopes=["read", "write"])) -> dict[str, Any]:
        return {"ok": True}

    @app.get("/scopes-of-route")
    async def inner(security_scopes: SecurityScopes) -> list[str]:
        return security_scopes.scopes

    jwt_auth.add_jwks_route(app)
    return app, jwt_auth


def test_dependency_gives_claims_or_401() -> None:
    app, jwt_auth = make_app()
    with TestClient(app) as client:
        missing = client.get("/me")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json() == {"detail": "Not authenticated"}
        basic = client.get("/me", headers={"Authorization": "Basic YTpi"})
        assert basic.status_code == 401
        bad = client.get("/me", headers={"Authorization": "Bearer not.a.jwt"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        assert bad.json()["detail"].startswith("Invalid token:")
        expired = jwt_auth.encode({"sub": "ada"}, lifetime=-60)
        answer = client.get("/me", headers={"Authorization": f"Bearer {expired}"})
        assert (answer.status_code, answer.json()) == (401, {"detail": "Invalid token: token has expired"})
        token = jwt_auth.encode({"sub": "ada"}, token_type="access")
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {"sub": "ada"}
        assert client.get("/maybe").json() == {"anonymous": True}
        assert client.get("/maybe", headers={"Authorization": "Bearer x.y.z"}).status_code == 401


def test_scopes_are_checked() -> None:
    app, jwt_auth = make_app()
    with TestClient(app) as client:
        reader = jwt_auth.encode({"sub": "ada", "scope": "read"}, token_type="access")
        admin = jwt_auth.encode({"sub": "root", "scopes": ["admin", "read", "write"]}, token_type="access")
        refused = client.get("/admin", headers={"Authorization": f"Bearer {reader}"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Missing scope: admin"}
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        assert client.get("/admin", headers={"Authorization": f"Bearer {admin}"}).json() == {"sub": "root"}
        assert client.get("/scoped", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        assert client.get("/scoped", headers={"Authorization": f"Bearer {admin}"}).status_code == 200


def test_openapi_documents_a_bearer_scheme_and_jwks_is_served() -> None:
    app, jwt_auth = make_app()
    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()
        schemes = schema["components"]["securitySchemes"]
        assert schemes["JWTAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        assert schema["paths"]["/me"]["get"]["security"] == [{"JWTAuth": []}]
        assert schema["paths"]["/admin"]["get"]["security"] == [{"JWTAuth": ["admin"]}]
        assert "/.well-known/jwks.json" not in schema["paths"]
        jwks = client.get("/.well-known/jwks.json")
        assert jwks.status_code == 200
        assert jwks.json() == {"keys": []}  # an HMAC secret is never published
