"""Log users in with an OAuth2 / OpenID Connect provider (Google, GitHub, Auth0, any OIDC).

    oauth = OAuth(secret_key=...)
    oauth.register_google(client_id=..., client_secret=...)

    @app.get("/login")
    async def login(request: Request):
        return await oauth.google.authorize_redirect(request, "https://app.example/auth")

    @app.get("/auth")
    async def auth(request: Request, response: Response):
        token = await oauth.google.authorize_access_token(request)
        oauth.google.clear_transaction(request, response)
        return token["userinfo"]

Built on Authlib (the OAuth2 client) and joserfc (ID token checks); install `covet[oauth]`.
See docs/oauth.md.
"""

from covet.oauth.discovery import clear_caches
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
from covet.oauth.provider import OAuthProvider
from covet.oauth.registry import OAuth

__all__ = [
    "OAuth",
    "OAuthProvider",
    "OAuthError",
    "AuthorizationDenied",
    "TransactionMissing",
    "TransactionInvalid",
    "StateMismatch",
    "TokenExchangeFailed",
    "InvalidIDToken",
    "UserInfoFailed",
    "ProviderUnavailable",
    "clear_caches",
]
