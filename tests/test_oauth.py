"""covet.oauth end to end: a covet app on covet's own server logs in through a real OpenID
Connect provider (Authlib's server side, tests/oidc_provider.py) on loopback, with redirects
followed by hand as a browser would.

Google, GitHub and Auth0 cannot be reached from here: their presets are checked for the
endpoints they configure, not run.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from covet.oauth import OAuth, ProviderUnavailable
from covet.oauth.discovery import clear_caches
from covet.oauth.errors import InvalidIDToken, TransactionInvalid
from covet.oauth.idtoken import validate_id_token
from covet.oauth.presets import GOOGLE_DISCOVERY_URL
from covet.oauth.transaction import Transaction, TransactionCodec
from tests.conftest import Server, free_port, start_server
from tests.oidc_provider import SECRET, running_provider

APP = "tests.apps.oauth_app:app"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with running_provider() as url:
        yield url


def _start_app(issuer: str) -> Server:
    old = os.environ.get("OIDC_ISSUER")
    os.environ["OIDC_ISSUER"] = issuer  # read by the app's process at import
    try:
        return start_server(APP)
    finally:
        if old is None:
            del os.environ["OIDC_ISSUER"]
        else:
            os.environ["OIDC_ISSUER"] = old


@pytest.fixture(scope="module")
def app(issuer: str) -> Iterator[Server]:
    server = _start_app(issuer)
    yield server
    server.stop()


@dataclass
class Login:
    """A login sent out to the provider and back: what a browser holds at the callback."""

    authorize_url: str
    cookie: str
    set_cookie: str
    callback_url: str

    @property
    def authorize_params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.authorize_url).query).items()}

    @property
    def callback_params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.callback_url).query).items()}


def start_login(app: Server, name: str = "main") -> Login:
    """/login -> provider /authorize -> the callback URL with code and state, not yet visited."""
    with httpx.Client(timeout=10) as browser:
        out = browser.get(f"{app.url}/login/{name}")
        assert out.status_code == 302, out.text
        set_cookie = out.headers["set-cookie"]
        cookie = set_cookie.split(";")[0].split("=", 1)[1]
        back = browser.get(out.headers["location"])
        assert back.status_code == 302, back.text
        return Login(out.headers["location"], cookie, set_cookie, back.headers["location"])


def callback(login: Login, name: str = "main", cookie: str | None = None, url: str | None = None) -> httpx.Response:
    """Visits the callback as the browser would, sending the transaction cookie (or another)."""
    value = login.cookie if cookie is None else cookie
    headers = {"cookie": f"covet_oauth_{name}={value}"} if value else {}
    with httpx.Client(timeout=10) as browser:
        return browser.get(url or login.callback_url, headers=headers)


def stats(issuer: str) -> dict[str, int]:
    return httpx.get(f"{issuer}/test/stats", timeout=10).json()


# --- the whole dance --------------------------------------------------------------------------


def test_login_end_to_end(app: Server, issuer: str) -> None:
    login = start_login(app)
    params = login.authorize_params
    assert login.authorize_url.startswith(f"{issuer}/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == "covet-app"
    assert params["redirect_uri"] == f"{app.url}/callback/main"
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    cookie_attrs = [a.strip().lower() for a in login.set_cookie.split(";")]
    assert {"httponly", "samesite=lax", "path=/callback/main", "max-age=600"} <= set(cookie_attrs)
    assert "secure" not in cookie_attrs  # http on loopback; an https callback gets Secure

    back = login.callback_params
    assert back["state"] == params["state"] and back["code"]
    done = callback(login)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["userinfo"] == {
        "sub": "user-42",
        "name": "Ada Lovelace",
        "preferred_username": "ada",
        "email": "ada@example.test",
        "email_verified": True,
    }
    claims = body["claims"]
    assert claims["iss"] == issuer and claims["aud"] == ["covet-app"] and claims["sub"] == "user-42"
    assert claims["nonce"] == params["nonce"]
    assert body["token_type"] == "Bearer" and body["has_access_token"]
    cleared = done.headers["set-cookie"].lower()
    assert cleared.startswith("covet_oauth_main=") and "max-age=0" in cleared and "path=/callback/main" in cleared


def test_public_client_logs_in_with_pkce_alone(app: Server) -> None:
    login = start_login(app, "public")
    assert "code_challenge" in login.authorize_params
    done = callback(login, "public")
    assert done.status_code == 200, done.text
    assert done.json()["claims"]["aud"] == ["covet-public"]


def test_oauth2_without_openid_gets_the_user_from_the_api(app: Server) -> None:
    login = start_login(app, "plain")
    assert "nonce" not in login.authorize_params
    assert login.authorize_params["scope"] == "profile email"
    done = callback(login, "plain")
    assert done.status_code == 200, done.text
    assert done.json()["claims"] is None
    assert done.json()["userinfo"] == {"id": 42, "login": "ada", "name": "Ada Lovelace"}


# --- PKCE, state, replays -----------------------------------------------------------------


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _provider_code(issuer: str, verifier: str, client_id: str = "covet-app") -> str:
    redirect = "http://127.0.0.1:1/cb"
    out = httpx.get(
        f"{issuer}/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": "openid",
            "state": "s",
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert out.status_code == 302, out.text
    return parse_qs(urlsplit(out.headers["location"]).query)["code"][0]


def _redeem(issuer: str, code: str, verifier: str | None) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:1/cb"}
    if verifier is not None:
        data["code_verifier"] = verifier
    return httpx.post(f"{issuer}/token", data=data, auth=("covet-app", SECRET), timeout=10)


def test_provider_enforces_pkce_and_single_use_codes(issuer: str) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _provider_code(issuer, verifier)
    wrong = _redeem(issuer, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = _redeem(issuer, _provider_code(issuer, verifier), None)
    assert missing.status_code == 400 and "code_verifier" in missing.json()["error_description"]

    code = _provider_code(issuer, verifier)
    assert _redeem(issuer, code, verifier).status_code == 200
    again = _redeem(issuer, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_state_mismatch_is_400(app: Server) -> None:
    login = start_login(app)
    forged = login.callback_url.replace(f"state={login.callback_params['state']}", "state=not-the-one")
    out = callback(login, url=forged)
    assert out.status_code == 400
    assert out.json()["detail"]["error"] == "state_mismatch"
    assert callback(login).status_code == 200  # the real callback still works: nothing was spent


def test_callback_with_another_browsers_state_is_refused(app: Server) -> None:
    """Login CSRF: an attacker's callback URL, opened in a victim's browser mid-login."""
    attacker, victim = start_login(app), start_login(app)
    out = callback(attacker, cookie=victim.cookie)
    assert out.status_code == 400 and out.json()["detail"]["error"] == "state_mismatch"


def test_replayed_callback_is_refused(app: Server, issuer: str) -> None:
    login = start_login(app)
    assert callback(login).status_code == 200
    same_cookie = callback(login)
    assert same_cookie.status_code == 400
    assert same_cookie.json()["detail"]["error"] == "transaction_invalid"
    no_cookie = callback(login, cookie="")
    assert no_cookie.status_code == 400 and no_cookie.json()["detail"]["error"] == "transaction_missing"

    # Another instance of the app (same secret) has not seen the state: the provider refuses the code.
    other = _start_app(issuer)
    try:
        url = login.callback_url.replace(app.url, other.url)
        out = callback(login, url=url)
        assert out.status_code == 401
        assert out.json()["detail"]["error"] == "token_exchange_failed"
        assert "invalid_grant" in out.json()["detail"]["message"]
    finally:
        _, log = other.stop()
    assert "OAuth login via 'main' refused (token_exchange_failed)" in log


def test_altered_transaction_cookie_is_400(app: Server) -> None:
    login = start_login(app)
    payload, sig = login.cookie.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["nonce"] = "chosen-by-attacker"
    altered = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode() + "." + sig
    out = callback(login, cookie=altered)
    assert out.status_code == 400 and out.json()["detail"]["error"] == "transaction_invalid"
    assert "max-age=0" in out.headers["set-cookie"].lower()


def test_provider_error_is_400(app: Server) -> None:
    login = start_login(app, "denied")
    assert login.callback_params["error"] == "access_denied", login.callback_url
    out = callback(login, "denied")
    assert out.status_code == 400
    detail = out.json()["detail"]
    assert detail["error"] == "authorization_denied"
    assert detail["message"].startswith("the provider answered 'access_denied': The resource owner")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("wrong-aud", "aud"),
        ("wrong-nonce", "nonce"),
        ("tampered", "bad signature"),
        ("forged", "bad signature"),
        ("expired", "expired_token"),
    ],
)
def test_bad_id_token_is_401(app: Server, name: str, reason: str) -> None:
    login = start_login(app, name)
    out = callback(login, name)
    assert out.status_code == 401, out.text
    detail = out.json()["detail"]
    assert detail["error"] == "invalid_id_token" and reason in detail["message"]
    assert "max-age=0" in out.headers["set-cookie"].lower()


def test_provider_down_is_502(app: Server) -> None:
    out = httpx.get(f"{app.url}/login/down", timeout=10)
    assert out.status_code == 502
    assert out.json()["detail"]["error"] == "provider_unavailable"
    assert httpx.get(f"{app.url}/login/main", timeout=10).status_code == 302  # still serving


def test_transaction_codec_refuses_garbage() -> None:
    codec = TransactionCodec("x" * 32)
    tx = Transaction("p", "state", "nonce", "verifier", "http://127.0.0.1/cb", int(time.time()) + 60)
    assert codec.load(codec.dump(tx), "p") == tx
    for value in ("", "abc", "é.x", "a.b.c", codec.dump(tx) + "x", TransactionCodec("y" * 32).dump(tx)):
        with pytest.raises(TransactionInvalid):
            codec.load(value, "p")
    with pytest.raises(TransactionInvalid, match="belongs to provider 'p'"):
        codec.load(codec.dump(tx), "q")
    with pytest.raises(TransactionInvalid, match="took too long"):
        codec.load(codec.dump(Transaction("p", "s", None, "v", "u", int(time.time()) - 1)), "p")


def test_unreachable_provider_is_502(issuer: str) -> None:
    down = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    oauth = OAuth(secret_key="x" * 32)
    provider = oauth.register_oidc("down", down, client_id="c")
    with pytest.raises(ProviderUnavailable) as info:
        asyncio.run(provider.load_metadata())
    assert info.value.status_code == 502 and "discovery document" in info.value.message


def test_discovery_must_name_its_own_issuer(issuer: str) -> None:
    """The same document fetched under another host name claims another issuer: refused."""
    port = urlsplit(issuer).port
    oauth = OAuth(secret_key="x" * 32)
    provider = oauth.register_oidc("mixup", f"http://localhost:{port}/.well-known/openid-configuration", client_id="c")
    with pytest.raises(ProviderUnavailable, match="names issuer"):
        asyncio.run(provider.load_metadata())


# --- caching ------------------------------------------------------------------------------


def test_discovery_and_jwks_are_fetched_once(app: Server, issuer: str) -> None:
    assert callback(start_login(app)).status_code == 200
    before = stats(issuer)
    for _ in range(2):
        assert callback(start_login(app)).status_code == 200
    after = stats(issuer)
    assert after["/token"] == before["/token"] + 2
    assert after["/.well-known/openid-configuration"] == before["/.well-known/openid-configuration"]
    assert after["/jwks.json"] == before["/jwks.json"]


def test_discovery_cache_ttl(issuer: str) -> None:
    url = f"{issuer}/.well-known/openid-configuration"
    oauth = OAuth(secret_key="x" * 32)
    cached = oauth.register_oidc("cached", url, client_id="c")
    fresh = oauth.register_oidc("fresh", url, client_id="c", metadata_ttl=0)

    async def load_twice() -> None:
        clear_caches()
        await cached.load_metadata()
        start = stats(issuer)["/.well-known/openid-configuration"]
        assert (await cached.load_metadata())["issuer"] == issuer
        assert stats(issuer)["/.well-known/openid-configuration"] == start
        await fresh.load_metadata()
        assert stats(issuer)["/.well-known/openid-configuration"] == start + 1

    asyncio.run(load_twice())


# --- ID token checks without the provider -------------------------------------------------

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def _id_token(claims: dict[str, Any], key: Any = KEY, alg: str = "RS256") -> str:
    now = int(time.time())
    base = {"iss": "https://op.test", "aud": "app", "sub": "u1", "iat": now, "exp": now + 300, "nonce": "n"}
    return jwt.encode({"alg": alg, "kid": "k1"}, {**base, **claims}, key, [alg])


def _validate(token: str, **kw: Any) -> dict[str, Any]:
    async def keys(refresh: bool) -> KeySet:
        return KeySet([KEY])

    options = {"issuers": ["https://op.test"], "client_id": "app", "nonce": "n", "algorithms": ["RS256"], **kw}
    return asyncio.run(validate_id_token(token, load_keys=keys, **options))


def test_id_token_checks() -> None:
    assert _validate(_id_token({}))["sub"] == "u1"
    assert _validate(_id_token({"iss": "accounts.google.com"}), issuers=["https://op.test", "accounts.google.com"])
    refused = {
        "iss": _id_token({"iss": "https://evil.test"}),
        "several audiences, no azp": _id_token({"aud": ["app", "other"]}),
        "nbf": _id_token({"nbf": int(time.time()) + 3600}),
        "iat": _id_token({"iat": int(time.time()) + 3600}),
        "missing sub": _id_token({"sub": None}),
        "HS256": jwt.encode({"alg": "HS256"}, {"sub": "u1"}, OctKey.generate_key(256), ["HS256"]),
        "not a JWS": "garbage",
    }
    for what, token in refused.items():
        with pytest.raises(InvalidIDToken):
            _validate(token, algorithms=["RS256", "HS256"])
            pytest.fail(f"accepted an ID token with {what}")
    assert _validate(_id_token({"aud": ["app", "other"], "azp": "app"}))["azp"] == "app"


# --- presets and configuration ------------------------------------------------------------


def test_google_preset() -> None:
    google = OAuth(secret_key="x" * 32).register_google(client_id="id", client_secret="s")
    assert google.name == "google" and google.server_metadata_url == GOOGLE_DISCOVERY_URL
    assert GOOGLE_DISCOVERY_URL == "https://accounts.google.com/.well-known/openid-configuration"
    assert google.scope == "openid email profile" and google.is_openid
    assert google.issuers == ["accounts.google.com"]


def test_github_preset() -> None:
    github = OAuth(secret_key="x" * 32).register_github(client_id="id", client_secret="s")
    metadata = asyncio.run(github.load_metadata())  # explicit endpoints: nothing is fetched
    assert metadata == {
        "authorization_endpoint": "https://github.com/login/oauth/authorize",
        "token_endpoint": "https://github.com/login/oauth/access_token",
        "userinfo_endpoint": "https://api.github.com/user",
    }
    assert not github.is_openid and github.fetch_userinfo is not None
    enterprise = OAuth(secret_key="x" * 32).register_github(
        client_id="id", client_secret="s", base_url="https://git.corp/", api_url="https://git.corp/api/v3"
    )
    assert asyncio.run(enterprise.load_metadata())["token_endpoint"] == "https://git.corp/login/oauth/access_token"


def test_auth0_preset() -> None:
    oauth = OAuth(secret_key="x" * 32)
    auth0 = oauth.register_auth0("https://tenant.eu.auth0.com/", client_id="id", client_secret="s", audience="api")
    assert auth0.server_metadata_url == "https://tenant.eu.auth0.com/.well-known/openid-configuration"
    assert auth0.authorize_params == {"audience": "api"}
    with pytest.raises(ValueError, match="bare domain"):
        oauth.register_auth0("tenant.auth0.com/path", client_id="id", name="bad")


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        OAuth(secret_key="short")
    oauth = OAuth(secret_key="x" * 32)
    with pytest.raises(ValueError, match="names a cookie"):
        oauth.register_oidc("bad name", "https://op.test/.well-known/openid-configuration", client_id="c")
    with pytest.raises(ValueError, match="not a discovery URL"):
        oauth.register_oidc("op", "https://op.test/", client_id="c")
    with pytest.raises(ValueError, match="needs server_metadata_url"):
        oauth.register("nothing", client_id="c")
    oauth.register_oidc("op", "https://op.test/.well-known/openid-configuration", client_id="c")
    with pytest.raises(ValueError, match="already registered"):
        oauth.register_oidc("op", "https://op.test/.well-known/openid-configuration", client_id="c")
    assert oauth.op is oauth["op"] and "op" in oauth and list(oauth) == ["op"]
    with pytest.raises(AttributeError, match="no OAuth provider named 'nope'"):
        oauth.nope  # noqa: B018
