"""Why a token was refused, as exceptions named the way PyJWT users know them.

Every refusal the engine makes has a stable `kind` (`"expired"`, `"alg_none"`, ...); each kind
maps to one exception class here, so callers can catch broadly (`InvalidTokenError`) or
precisely (`ExpiredSignatureError` means "ask for a refresh", the rest mean "log in again")."""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "ExpiredSignatureError",
    "ImmatureSignatureError",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "MissingRequiredClaimError",
    "RevokedTokenError",
    "TokenReuseError",
    "UnknownKeyError",
    "WrongTokenTypeError",
]


class InvalidTokenError(Exception):
    """A token that must not be trusted. `kind` names the reason; `str()` explains it."""

    kind: str = "invalid_token"

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class DecodeError(InvalidTokenError):
    """Not a JWT: wrong number of segments, bad base64url, bad JSON, unknown `crit` headers."""


class InvalidAlgorithmError(InvalidTokenError):
    """`alg: none`, an algorithm not allowed, or one the selected key was not made for."""


class UnknownKeyError(InvalidTokenError):
    """The header's `kid` names no key in the set (a retired key, or a forged header)."""


class InvalidSignatureError(InvalidTokenError):
    """The signature does not match: a tampered, truncated or foreign token."""


class ExpiredSignatureError(InvalidTokenError):
    """`exp` has passed; a client should use its refresh token."""


class ImmatureSignatureError(InvalidTokenError):
    """`nbf` or `iat` is in the future beyond the leeway."""


class InvalidAudienceError(InvalidTokenError):
    """`aud` does not name this service."""


class InvalidIssuerError(InvalidTokenError):
    """`iss` is not the configured issuer."""


class MissingRequiredClaimError(InvalidTokenError):
    """A required claim is missing, or a registered claim has the wrong type."""


class WrongTokenTypeError(InvalidTokenError):
    """A refresh token offered as an access token, or the other way round."""


class RevokedTokenError(InvalidTokenError):
    """Revoked by logout, by "log out everywhere", or with its refresh family."""


class TokenReuseError(RevokedTokenError):
    """A refresh token that was already rotated out was used again: its whole family is
    revoked, since either the client or an attacker holds a stolen copy."""


class InvalidKeyError(ValueError):
    """A key or key set that cannot be used (bad PEM, short secret, no signing key): a
    configuration error, raised at start-up rather than per request."""

    def __init__(self, message: str, kind: str = "invalid_key") -> None:
        super().__init__(message)
        self.kind = kind


_BY_KIND: dict[str, type[InvalidTokenError]] = {
    "malformed": DecodeError,
    "base64": DecodeError,
    "json": DecodeError,
    "unsupported_critical": DecodeError,
    "alg_none": InvalidAlgorithmError,
    "unsupported_algorithm": InvalidAlgorithmError,
    "algorithm_not_allowed": InvalidAlgorithmError,
    "key_algorithm_mismatch": InvalidAlgorithmError,
    "unknown_key": UnknownKeyError,
    "invalid_signature": InvalidSignatureError,
    "expired": ExpiredSignatureError,
    "not_yet_valid": ImmatureSignatureError,
    "issued_in_future": ImmatureSignatureError,
    "invalid_audience": InvalidAudienceError,
    "invalid_issuer": InvalidIssuerError,
    "missing_claim": MissingRequiredClaimError,
    "invalid_claim": MissingRequiredClaimError,
}


def from_engine(error: ValueError) -> Exception:
    """The covet exception for an engine `JwtError(kind, message)`."""
    kind, message = error.args if len(error.args) == 2 else ("invalid_token", str(error))
    if kind in ("invalid_key", "no_signing_key"):
        return InvalidKeyError(message, kind)
    return _BY_KIND.get(kind, InvalidTokenError)(message, kind)
