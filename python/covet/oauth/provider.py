"""One OAuth2 / OpenID Connect provider: the redirect out and the callback back in.

`authorize_redirect` makes up `state`, `nonce` and a PKCE verifier, keeps them in a signed
cookie bound to the browser, and sends the browser to the provider. `authorize_access_token`
runs when the browser comes back: it checks the cookie and the state, redeems the code with the
verifier (Authlib's `AsyncOAuth2Client`), verifies the ID token and fetches the user's profile.
Every failure is an `OAuthError` (400, 401 or 502, logged), never a 500.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.httpx_client import OAuthError as AuthlibOAuthError
from joserfc.jwk import KeySet

from covet.oauth._http import http as httpx
from covet.oauth.discovery import load_jwks, load_metadata
from covet.oauth.errors import (
    AuthorizationDenied,
    InvalidIDToken,
    OAuthError,
    ProviderUnavailable,
    StateMismatch,
    TokenExchangeFailed,
    TransactionInvalid,
    TransactionMissing,
    UserInfoFailed,
)
from covet.oauth.idtoken import validate_id_token
from covet.oauth.transaction import SpentStates, Transaction, TransactionCodec
from covet.requests import Request
from covet.responses import RedirectResponse, Response

__all__ = ["OAuthProvider", "UserInfoFetcher", "fetch_userinfo_json"]

#: Fetches the user's profile with a client that already carries the access token.
UserInfoFetcher = Callable[[AsyncOAuth2Client, Mapping[str, Any]], Awaitable[dict[str, Any]]]


class OAuthProvider:
    """A provider registered on an `OAuth` registry; see docs/oauth.md for every option."""

    def __init__(
        self,
        name: str,
        *,
        codec: TransactionCodec,
        client_id: str,
        client_secret: str | None = None,
        scope: str = "openid email profile",
        server_metadata_url: str | None = None,
        authorize_url: str | None = None,
        token_url: str | None = None,
        userinfo_url: str | None = None,
        jwks_uri: str | None = None,
        issuer: str | None = None,
        issuers: Sequence[str] = (),
        authorize_params: Mapping[str, str] | None = None,
        fetch_userinfo: UserInfoFetcher | None = None,
        token_endpoint_auth_method: str | None = None,
        id_token_algorithms: Sequence[str] | None = None,
        transaction_ttl: int = 600,
        cookie_secure: bool | None = None,
        metadata_ttl: float = 3600,
        leeway: int = 60,
        timeout: float = 10.0,
    ) -> None:
        if server_metadata_url is None and (authorize_url is None or token_url is None):
            raise ValueError(f"OAuth provider {name!r} needs server_metadata_url, or authorize_url and token_url")
        self.name = name
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.server_metadata_url = server_metadata_url
        self.issuers = list(issuers)
        self.authorize_params = dict(authorize_params or {})
        self.fetch_userinfo = fetch_userinfo
        self.token_endpoint_auth_method = token_endpoint_auth_method or (
            "client_secret_basic" if client_secret else "none"
        )
        self.id_token_algorithms = list(id_token_algorithms) if id_token_algorithms else None
        self.transaction_ttl = transaction_ttl
        self.cookie_secure = cookie_secure
        self.metadata_ttl = metadata_ttl
        self.leeway = leeway
        self.timeout = timeout
        self.cookie_name = f"covet_oauth_{name}"
        self._codec = codec
        self._spent = SpentStates()
        # Explicit endpoints win over discovered ones.
        self._overrides = {
            key: value
            for key, value in {
                "authorization_endpoint": authorize_url,
                "token_endpoint": token_url,
                "userinfo_endpoint": userinfo_url,
                "jwks_uri": jwks_uri,
                "issuer": issuer,
            }.items()
            if value is not None
        }

    @property
    def is_openid(self) -> bool:
        """Whether this login asks for an ID token (scope `openid`)."""
        return "openid" in self.scope.split()

    async def load_metadata(self) -> dict[str, Any]:
        """The provider's endpoints: discovered (cached) when a discovery URL is set, then overridden."""
        metadata: dict[str, Any] = {}
        if self.server_metadata_url is not None:
            metadata = dict(
                await load_metadata(
                    self.server_metadata_url, provider=self.name, ttl=self.metadata_ttl, timeout=self.timeout
                )
            )
        metadata.update(self._overrides)
        return metadata

    async def authorize_redirect(self, request: Request, redirect_uri: str, **params: str) -> RedirectResponse:
        """A 302 to the provider's authorization endpoint, setting the login transaction cookie.

        `redirect_uri` is the absolute URL of the app's callback, as registered with the provider;
        `params` are extra authorization parameters (`prompt`, `login_hint`, ...).
        """
        metadata = await self.load_metadata()
        tx = Transaction(
            provider=self.name,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32) if self.is_openid else None,
            code_verifier=secrets.token_urlsafe(64),
            redirect_uri=redirect_uri,
            expires=int(time.time()) + self.transaction_ttl,
        )
        extra = {**self.authorize_params, **params}
        if tx.nonce is not None:
            extra["nonce"] = tx.nonce
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=tx.state, code_verifier=tx.code_verifier, **extra
            )
        response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            self.cookie_name,
            self._codec.dump(tx),
            max_age=self.transaction_ttl,
            path=self._cookie_path(redirect_uri),
            secure=self._secure(redirect_uri),
            httponly=True,
            samesite="lax",
        )
        return response

    async def authorize_access_token(self, request: Request) -> dict[str, Any]:
        """Finishes the login on the callback: the token response, plus `userinfo` and `id_token_claims`.

        Call `clear_transaction(request, response)` on the response you answer with, so the browser drops
        the spent transaction cookie (an error answer drops it by itself).
        """
        params = request.query_params
        clear = {"set-cookie": self._clear_cookie_header(request.url.path)}
        if "error" in params:
            raise AuthorizationDenied(
                params["error"], params.get("error_description"), provider=self.name, headers=clear
            )
        tx = self._load_transaction(request, clear)
        code = params.get("code")
        if not code:
            raise OAuthError("the callback carries no authorization code", provider=self.name, headers=clear)
        metadata = await self.load_metadata()
        async with self._client(tx.redirect_uri) as client:
            token = await self._exchange(client, metadata, code, tx, clear)
            claims = None
            if "id_token" in token:
                claims = await self._validate_id_token(token, metadata, tx, clear)
            elif self.is_openid:
                raise InvalidIDToken("the token response has no id_token", provider=self.name, headers=clear)
            client.token = token
            userinfo = await self._userinfo(client, token, metadata, claims, clear)
        token["id_token_claims"] = claims
        token["userinfo"] = userinfo
        return token

    def clear_transaction(self, request: Request, response: Response) -> Response:
        """Adds to `response` (the callback's answer) the Set-Cookie that drops the transaction cookie."""
        header = self._clear_cookie_header(request.url.path)
        response.raw_headers.append((b"set-cookie", header.encode("latin-1")))
        return response

    # --- steps -----------------------------------------------------------------------------

    def _load_transaction(self, request: Request, clear: dict[str, str]) -> Transaction:
        value = request.cookies.get(self.cookie_name)
        if not value:
            raise TransactionMissing(
                "no login transaction cookie: start the login again (cookies must be enabled)", provider=self.name
            )
        try:
            tx = self._codec.load(value, self.name)
        except TransactionInvalid as exc:
            exc.headers = clear
            raise
        state = request.query_params.get("state", "")
        if not hmac.compare_digest(state.encode(), tx.state.encode()):
            raise StateMismatch("the callback's state is not the one this browser was sent with", provider=self.name)
        if not self._spent.consume(tx.state, tx.expires):
            raise TransactionInvalid("this login was already completed; start it again", provider=self.name)
        return tx

    async def _exchange(
        self, client: AsyncOAuth2Client, metadata: dict[str, Any], code: str, tx: Transaction, clear: dict[str, str]
    ) -> dict[str, Any]:
        try:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=tx.code_verifier, grant_type="authorization_code"
            )
        except AuthlibOAuthError as exc:
            detail = f"{exc.error}: {exc.description}" if exc.description else exc.error
            raise TokenExchangeFailed(
                f"the provider refused the code ({detail})", provider=self.name, headers=clear
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(
                f"the token endpoint failed: {exc!r}", provider=self.name, headers=clear
            ) from None
        if not token.get("access_token"):
            raise TokenExchangeFailed("the token response has no access_token", provider=self.name, headers=clear)
        return dict(token)

    async def _validate_id_token(
        self, token: dict[str, Any], metadata: dict[str, Any], tx: Transaction, clear: dict[str, str]
    ) -> dict[str, Any]:
        if "jwks_uri" not in metadata or "issuer" not in metadata:
            raise ProviderUnavailable("no jwks_uri or issuer known to check the ID token", provider=self.name)

        async def load_keys(refresh: bool) -> KeySet:
            return await load_jwks(
                metadata["jwks_uri"], provider=self.name, ttl=self.metadata_ttl, timeout=self.timeout, refresh=refresh
            )

        try:
            return await validate_id_token(
                token["id_token"],
                load_keys=load_keys,
                issuers=[metadata["issuer"], *self.issuers],
                client_id=self.client_id,
                nonce=tx.nonce,
                algorithms=self.id_token_algorithms
                or metadata.get("id_token_signing_alg_values_supported")
                or ["RS256"],
                leeway=self.leeway,
                access_token=token.get("access_token"),
                provider=self.name,
            )
        except OAuthError as exc:
            exc.headers = clear
            raise

    async def _userinfo(
        self,
        client: AsyncOAuth2Client,
        token: dict[str, Any],
        metadata: dict[str, Any],
        claims: dict[str, Any] | None,
        clear: dict[str, str],
    ) -> dict[str, Any]:
        try:
            if self.fetch_userinfo is not None:
                userinfo = await self.fetch_userinfo(client, token)
            elif metadata.get("userinfo_endpoint"):
                userinfo = await fetch_userinfo_json(client, metadata["userinfo_endpoint"], self.name)
            else:
                userinfo = dict(claims or {})
        except OAuthError as exc:
            exc.headers = clear
            raise
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"fetching the user failed: {exc!r}", provider=self.name, headers=clear) from None
        if claims is not None and userinfo.get("sub") != claims["sub"]:
            # OpenID Connect Core 5.3.2: a userinfo answer about someone else must be thrown away.
            raise UserInfoFailed("userinfo is about another subject than the ID token", provider=self.name)
        return userinfo

    # --- helpers ---------------------------------------------------------------------------

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
            redirect_uri=redirect_uri,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            code_challenge_method="S256",
            timeout=self.timeout,
        )

    def _secure(self, redirect_uri: str) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else redirect_uri.startswith("https:")

    @staticmethod
    def _cookie_path(redirect_uri: str) -> str:
        """The cookie goes only to the callback: no other page of the app ever sees it."""
        return urlsplit(redirect_uri).path or "/"

    def _clear_cookie_header(self, path: str) -> str:
        response = Response()
        response.delete_cookie(self.cookie_name, path=path, httponly=True, samesite="lax")
        return response.raw_headers[-1][1].decode("latin-1")

    def __repr__(self) -> str:
        return f"OAuthProvider({self.name!r}, client_id={self.client_id!r})"


async def fetch_userinfo_json(client: AsyncOAuth2Client, url: str, provider: str) -> dict[str, Any]:
    """GETs a JSON profile with the access token; a refusal is 401, an outage 502."""
    try:
        response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"cannot reach {url}: {exc!r}", provider=provider) from None
    if response.status_code in (401, 403):
        raise UserInfoFailed(f"{url} refused the access token ({response.status_code})", provider=provider)
    if response.status_code != 200:
        raise ProviderUnavailable(f"{url} answered {response.status_code}", provider=provider)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UserInfoFailed(f"{url} did not answer a JSON object", provider=provider)
    return data
