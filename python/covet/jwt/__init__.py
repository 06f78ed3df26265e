"""JSON Web Tokens: keys, a token manager with access/refresh pairs and revocation, and a
FastAPI-style dependency. Signing and verification run in covet's Rust engine.

    from covet.jwt import JWTAuth, HMACKey

    jwt_auth = JWTAuth(HMACKey(settings.secret), issuer="https://api.example.com")

    @app.get("/me")
    async def me(claims: dict = Depends(jwt_auth)) -> dict: ...

See docs/jwt.md."""

from covet.jwt.auth import JWTAuth, token_scopes
from covet.jwt.errors import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
    RevokedTokenError,
    TokenReuseError,
    UnknownKeyError,
    WrongTokenTypeError,
)
from covet.jwt.keys import ECKey, EdDSAKey, HMACKey, JWTKey, RSAKey
from covet.jwt.manager import JWT, TokenPair
from covet.jwt.revocation import MemoryRevocationStore, RedisRevocationStore, RevocationStore

__all__ = [
    "JWT",
    "DecodeError",
    "ECKey",
    "EdDSAKey",
    "ExpiredSignatureError",
    "HMACKey",
    "ImmatureSignatureError",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "JWTAuth",
    "JWTKey",
    "MemoryRevocationStore",
    "MissingRequiredClaimError",
    "RSAKey",
    "RedisRevocationStore",
    "RevocationStore",
    "RevokedTokenError",
    "TokenPair",
    "TokenReuseError",
    "UnknownKeyError",
    "WrongTokenTypeError",
    "token_scopes",
]
