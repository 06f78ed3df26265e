"""What can go wrong in a login, each failure its own exception with its HTTP status.

Every error is an `HTTPException`, so an app needs no handler of its own: the browser gets
`{"detail": ...}` with 400 (the request is not a valid end of a login we started), 401 (the
provider's answer could not be trusted or was refused) or 502 (the provider could not be
reached), and one log line says which check failed. None of them is ever a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from covet.exceptions import HTTPException

__all__ = [
    "OAuthError",
    "AuthorizationDenied",
    "TransactionMissing",
    "TransactionInvalid",
    "StateMismatch",
    "TokenExchangeFailed",
    "InvalidIDToken",
    "UserInfoFailed",
    "ProviderUnavailable",
]

logger = logging.getLogger("covet.oauth")


class OAuthError(HTTPException):
    """A login that cannot go on. `error` is a short machine-readable code."""

    status = 400
    error = "oauth_error"

    def __init__(self, message: str, *, provider: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(self.status, {"error": self.error, "message": message}, headers)
        self.message = message
        self.provider = provider
        logger.warning("OAuth login via %r refused (%s): %s", provider or "?", self.error, message)

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.message}"


class AuthorizationDenied(OAuthError):
    """The provider sent the browser back with `error=...` (the user said no, or the request was bad)."""

    error = "authorization_denied"

    def __init__(
        self,
        provider_error: str,
        description: str | None,
        *,
        provider: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.provider_error = provider_error
        message = f"the provider answered {provider_error!r}" + (f": {description}" if description else "")
        super().__init__(message, provider=provider, headers=headers)


class TransactionMissing(OAuthError):
    """No login transaction cookie: the login was not started here, took too long, or cookies are off."""

    error = "transaction_missing"


class TransactionInvalid(OAuthError):
    """The transaction cookie is expired, altered, already used, or belongs to another provider."""

    error = "transaction_invalid"


class StateMismatch(OAuthError):
    """The `state` in the callback is not the one this browser was sent out with (possible CSRF)."""

    error = "state_mismatch"


class TokenExchangeFailed(OAuthError):
    """The provider refused to exchange the code (reused code, wrong PKCE verifier, bad client secret)."""

    status = 401
    error = "token_exchange_failed"


class InvalidIDToken(OAuthError):
    """The ID token failed a check: signature, issuer, audience, expiry or nonce."""

    status = 401
    error = "invalid_id_token"


class UserInfoFailed(OAuthError):
    """The userinfo endpoint refused the access token or answered something unusable."""

    status = 401
    error = "userinfo_failed"


class ProviderUnavailable(OAuthError):
    """The provider could not be reached or answered garbage: not the browser's fault."""

    status = 502
    error = "provider_unavailable"
