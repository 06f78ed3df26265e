"""A real OpenID Connect provider for the OAuth tests, built with Authlib's server side on Flask.

Run as `python -m tests.oidc_provider --port N`; it serves on 127.0.0.1 with issuer
`http://127.0.0.1:N`. Authorization code grant with PKCE (`CodeChallenge`, required for every
client) and OpenID Connect (`OpenIDCode`, RS256 ID tokens signed with a key generated at start),
a discovery document, a JWKS endpoint, a token endpoint, a userinfo endpoint, and a plain
OAuth2 API (`/api/me`) for logins without OpenID Connect. One test user
is approved at once (no login page).

Some registered clients misbehave on purpose, so the tests can see a relying party refuse a bad
ID token that came through the real flow: `covet-wrong-aud` (audience of someone else),
`covet-wrong-nonce`, `covet-tampered` (signature altered after signing), `covet-forged` (signed
with a key the JWKS does not publish), `covet-expired`, and `covet-denied` (the user says no).
`GET /test/stats` counts requests per endpoint, for the caching tests.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey

SECRET = "covet-test-secret"
USER = {
    "sub": "user-42",
    "name": "Ada Lovelace",
    "preferred_username": "ada",
    "email": "ada@example.test",
    "email_verified": True,
}
FAULTY_CLIENTS = ("wrong-aud", "wrong-nonce", "tampered", "forged", "expired", "denied")


@dataclass
class Client:
    client_id: str
    client_secret: str | None
    fault: str | None = None
    client_metadata: dict[str, Any] = field(default_factory=dict)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Any app on this machine's loopback: the tests pick free ports.
        return redirect_uri.startswith("http://127.0.0.1:")

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client_secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass
class Token:
    access_token: str
    client: Client
    scope: str
    expires_at: float

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> dict[str, Any]:
        return USER

    def get_client(self) -> Client:
        return self.client

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client.client_id


class State:
    """Everything the provider remembers, in memory: keys, clients, codes, tokens, counters."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        # Same kid as the real key, never published: a forged token looks right but cannot verify.
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.clients = {c.client_id: c for c in _clients()}
        self.codes: dict[str, AuthCode] = {}
        self.tokens: dict[str, Token] = {}
        self.hits: Counter[str] = Counter()
        self.seen_nonces: set[str] = set()

    def save_token(self, token: dict[str, Any], req: Any) -> None:
        expires_at = time.time() + token.get("expires_in", 3600)
        access_token = token["access_token"]
        self.tokens[access_token] = Token(access_token, req.client, token.get("scope", ""), expires_at)


class Server(AuthorizationServer):
    state: State


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    server: Server

    def save_authorization_code(self, code: str, req: Any) -> None:
        data = req.payload.data
        self.server.state.codes[code] = AuthCode(
            code=code,
            client_id=req.client.client_id,
            redirect_uri=req.payload.redirect_uri,
            scope=req.payload.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )
        if data.get("nonce"):
            self.server.state.seen_nonces.add(data["nonce"])

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        item = self.server.state.codes.get(code)
        if item is not None and item.client_id == client.client_id:
            return item
        return None

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        self.server.state.codes.pop(authorization_code.code, None)  # a code is redeemed once

    def authenticate_user(self, authorization_code: AuthCode) -> dict[str, Any]:
        return USER


class OpenID(OpenIDCode):
    """ID tokens as the client asked for them, or spoiled the way a faulty client's name says."""

    def __init__(self, state: State) -> None:
        super().__init__(require_nonce=True)
        self.state = state

    def exists_nonce(self, nonce: str, req: Any) -> bool:
        return nonce in self.state.seen_nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.state.rogue_key if client.fault == "forged" else self.state.signing_key

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        claims: dict[str, Any] = {"iss": self.state.issuer, "aud": [client.client_id]}
        if client.fault == "wrong-aud":
            claims["aud"] = ["some-other-app"]
        if client.fault == "expired":
            claims["iat"] = claims["auth_time"] = int(time.time()) - 7200
            claims["exp"] = int(time.time()) - 3600
        return claims

    def get_authorization_code_claims(self, authorization_code: AuthCode) -> dict[str, Any]:
        claims = super().get_authorization_code_claims(authorization_code)
        if self.state.clients[authorization_code.client_id].fault == "wrong-nonce":
            claims["nonce"] = "a-nonce-from-another-login"
        return claims

    def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
        return UserInfo(**user).filter(scope)

    def encode_id_token(self, token: dict[str, Any], req: Any) -> str:
        id_token = super().encode_id_token(token, req)
        if req.client.fault == "tampered":
            head, payload, sig = id_token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
            raw[10] ^= 0xFF
            id_token = ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])
        return id_token


class TokenValidator(BearerTokenValidator):
    def __init__(self, state: State) -> None:
        super().__init__()
        self.state = state

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.state.tokens.get(token_string)


class UserInfoHandler(UserInfoEndpoint):
    def get_issuer(self) -> str:
        return self.server.state.issuer  # type: ignore[union-attr]

    def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
        return UserInfo(**user).filter(scope)


def create_app(issuer: str) -> Flask:
    app = Flask(__name__)
    state = State(issuer)
    server = Server(app, query_client=state.clients.get, save_token=state.save_token)
    server.state = state
    server.register_grant(CodeGrant, [CodeChallenge(required=True), OpenID(state)])
    protector = ResourceProtector()
    protector.register_token_validator(TokenValidator(state))
    server.register_endpoint(UserInfoHandler(resource_protector=protector))

    @app.before_request
    def count() -> None:
        state.hits[request.path] += 1

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=issuer,
            authorization_endpoint=f"{issuer}/authorize",
            token_endpoint=f"{issuer}/token",
            userinfo_endpoint=f"{issuer}/userinfo",
            jwks_uri=f"{issuer}/jwks.json",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            scopes_supported=["openid", "email", "profile"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
            code_challenge_methods_supported=["S256"],
            grant_types_supported=["authorization_code"],
        )

    @app.get("/jwks.json")
    def jwks() -> Any:
        return jsonify(KeySet([state.signing_key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize() -> Any:
        client = state.clients.get(request.args.get("client_id", ""))
        user = None if client is not None and client.fault == "denied" else USER
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant_user=user, grant=grant)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo() -> Any:
        return server.create_endpoint_response("userinfo")

    @app.get("/api/me")
    @protector("profile")
    def api_me() -> Any:
        # A plain OAuth2 API (no OpenID Connect): who the token belongs to, for scope `profile`.
        return jsonify(id=42, login=USER["preferred_username"], name=USER["name"])

    @app.get("/test/stats")
    def stats() -> Any:
        return jsonify(dict(state.hits))

    return app


def _clients() -> Iterator[Client]:
    yield Client("covet-app", SECRET)
    yield Client("covet-public", None)
    for fault in FAULTY_CLIENTS:
        yield Client(f"covet-{fault}", SECRET, fault)


@contextmanager
def running_provider() -> Iterator[str]:
    """Starts the provider in a subprocess on a free loopback port; yields its issuer URL."""
    from tests.conftest import ROOT, free_port, wait_for_port

    port = free_port()
    cmd = [sys.executable, "-m", "tests.oidc_provider", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    create_app(f"http://127.0.0.1:{args.port}").run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
