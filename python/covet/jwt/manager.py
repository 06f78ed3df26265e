"""`JWT`: issues and verifies tokens, pairs access and refresh tokens, and revokes them.

Signing and verification run in the Rust engine (`covet._engine.JwtKeys`); this class holds
the policy around them: which claims a token gets, how long it lives, how a refresh token is
rotated, and what the revocation store is asked."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from covet._engine import JwtError, JwtKeys
from covet.jwt.errors import (
    ExpiredSignatureError,
    InvalidKeyError,
    RevokedTokenError,
    TokenReuseError,
    WrongTokenTypeError,
    from_engine,
)
from covet.jwt.keys import JWTKey
from covet.jwt.revocation import MemoryRevocationStore, RevocationStore

__all__ = ["JWT", "TokenPair"]

ACCESS = "access"
REFRESH = "refresh"


@dataclass(frozen=True)
class TokenPair:
    """What a login or a refresh returns; `to_response()` is the OAuth2 token response body."""

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"

    def to_response(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class JWT:
    """Tokens for one issuer. `keys`: the signing key first (or name it with `signing_kid`),
    then the keys that only verify (rotated-out keys, other services' public keys); `jwks`
    adds verification keys from a JWKS document."""

    def __init__(
        self,
        keys: JWTKey | Sequence[JWTKey] = (),
        *,
        signing_kid: str | None = None,
        jwks: str | bytes | Mapping[str, Any] | None = None,
        algorithms: Iterable[str] | None = None,
        issuer: str | None = None,
        audience: str | Sequence[str] | None = None,
        leeway: timedelta | float = 0,
        access_lifetime: timedelta | float = timedelta(minutes=15),
        refresh_lifetime: timedelta | float = timedelta(days=14),
        revocation_store: RevocationStore | None = None,
    ) -> None:
        key_list = [keys] if isinstance(keys, JWTKey) else list(keys)
        self.issuer = issuer
        self.audience = [audience] if isinstance(audience, str) else list(audience or [])
        self.access_lifetime = _seconds(access_lifetime)
        self.refresh_lifetime = _seconds(refresh_lifetime)
        self.revocation_store: RevocationStore = revocation_store or MemoryRevocationStore()
        self._keys = _engine_call(
            JwtKeys,
            algorithms=list(algorithms or []),
            leeway=int(_seconds(leeway)),
            issuer=issuer,
            audience=self.audience,
            required=["exp"],
        )
        if signing_kid is None:
            signing_kid = next((k.kid for k in key_list if _can_sign(k)), None)
        for key in key_list:
            _engine_call(key.add_to, self._keys, signing=key.kid == signing_kid)
        if jwks is not None:
            self.add_jwks(jwks)

    # keys ------------------------------------------------------------------------------------

    @property
    def signing_kid(self) -> str | None:
        return self._keys.signing_kid

    def add_jwks(self, jwks: str | bytes | Mapping[str, Any], default_algorithm: str | None = None) -> list[str]:
        """Adds the public keys of a JWKS document as verification keys; returns their kids."""
        document = jwks if isinstance(jwks, str | bytes) else json.dumps(jwks)
        raw = document.encode() if isinstance(document, str) else document
        return list(_engine_call(self._keys.add_jwks, raw, default_algorithm))

    def remove_key(self, kid: str) -> bool:
        """Retires a key: tokens it signed are refused from now on."""
        return self._keys.remove(kid)

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWKS document (HMAC secrets are never included)."""
        return dict(json.loads(self._keys.jwks()))

    # encoding and decoding -------------------------------------------------------------------

    def encode(
        self,
        claims: Mapping[str, Any],
        *,
        lifetime: timedelta | float | None = None,
        token_type: str | None = None,
        kid: str | None = None,
    ) -> str:
        """Signs `claims`, adding `iat`, `exp`, `jti`, `iss` and `aud` unless given. `iat` carries
        milliseconds so that "log out everywhere" separates tokens issued in the same second."""
        now = time.time()
        life = self.access_lifetime if lifetime is None else _seconds(lifetime)
        body: dict[str, Any] = {"iat": math.floor(now * 1000) / 1000, "exp": int(now + life), "jti": uuid.uuid4().hex}
        if self.issuer is not None:
            body["iss"] = self.issuer
        if self.audience:
            body["aud"] = self.audience[0] if len(self.audience) == 1 else list(self.audience)
        if token_type is not None:
            body["type"] = token_type
        body.update(claims)
        payload = json.dumps(body, separators=(",", ":"), default=str).encode()
        return str(_engine_call(self._keys.encode, payload, kid))

    def decode(self, token: str, *, token_type: str | None = None) -> dict[str, Any]:
        """Verifies signature and claims (not revocation: see `verify`) and returns the claims."""
        try:
            _, payload = self._keys.decode(token, time.time())
        except JwtError as exc:
            raise from_engine(exc) from None
        claims = json.loads(payload)
        if token_type is not None and claims.get("type") != token_type:
            raise WrongTokenTypeError(f"expected a {token_type} token", "wrong_type")
        return dict(claims)

    async def verify(self, token: str, *, token_type: str | None = ACCESS) -> dict[str, Any]:
        """`decode`, then the revocation store: what a protected route needs."""
        claims = self.decode(token, token_type=token_type)
        if await self.is_revoked(claims):
            raise RevokedTokenError("token has been revoked", "revoked")
        return claims

    async def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        iat = claims.get("iat")
        return await self.revocation_store.is_revoked(
            jti=_str_or_none(claims.get("jti")),
            family=_str_or_none(claims.get("fam")),
            subject=_str_or_none(claims.get("sub")),
            issued_at=float(iat) if isinstance(iat, int | float) else None,
        )

    # access and refresh pairs ------------------------------------------------------------------

    async def create_token_pair(
        self, subject: str, claims: Mapping[str, Any] | None = None, *, scopes: Iterable[str] = ()
    ) -> TokenPair:
        """A login: a new refresh family, its first refresh token and an access token."""
        extra = dict(claims or {})
        scope = " ".join(scopes)
        if scope:
            extra["scope"] = scope
        return await self._issue_pair(str(subject), uuid.uuid4().hex, extra, first=True)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotates a refresh token: a new pair, and the old refresh token stops working. An old
        refresh token used again revokes its whole family (`TokenReuseError`)."""
        claims = await self.verify(refresh_token, token_type=REFRESH)
        family, subject = str(claims.get("fam", "")), str(claims.get("sub", ""))
        if not family:
            raise WrongTokenTypeError("refresh token has no family", "wrong_type")
        extra = {k: v for k, v in claims.items() if k not in _MANAGED}
        return await self._issue_pair(subject, family, extra, presented=str(claims.get("jti", "")))

    async def _issue_pair(
        self, subject: str, family: str, extra: dict[str, Any], *, first: bool = False, presented: str = ""
    ) -> TokenPair:
        refresh_jti = uuid.uuid4().hex
        family_expiry = time.time() + self.refresh_lifetime
        store = self.revocation_store
        if first:
            await store.start_family(family, refresh_jti, family_expiry)
        else:
            outcome = await store.rotate_family(family, presented, refresh_jti, family_expiry)
            if outcome == "reused":
                await store.revoke_family(family, family_expiry)
                raise TokenReuseError("refresh token was already used: the session is revoked", "reused")
            if outcome == "unknown":
                raise RevokedTokenError("refresh token's session is unknown or over", "revoked")
        base = {**extra, "sub": subject, "fam": family}
        access = self.encode(base, token_type=ACCESS)
        refresh = self.encode({**base, "jti": refresh_jti}, lifetime=self.refresh_lifetime, token_type=REFRESH)
        return TokenPair(access, refresh, int(self.access_lifetime))

    # revocation --------------------------------------------------------------------------------

    async def revoke(self, token: str) -> None:
        """Logout: this token, and the refresh family it belongs to, stop working. A token that
        has already expired needs nothing; one that does not verify is refused."""
        try:
            claims = self.decode(token)
        except ExpiredSignatureError:
            return
        exp = float(claims.get("exp", time.time() + self.refresh_lifetime))
        if claims.get("jti"):
            await self.revocation_store.revoke_token(str(claims["jti"]), exp)
        if claims.get("fam"):
            await self.revocation_store.revoke_family(str(claims["fam"]), time.time() + self.refresh_lifetime)

    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        """Revokes one token by id, remembered until `expires_at` (the token's `exp`)."""
        await self.revocation_store.revoke_token(jti, expires_at)

    async def logout_everywhere(self, subject: str) -> None:
        """Refuses every token of `subject` issued before now, on every server sharing the store."""
        # `iat` has millisecond resolution: the cutoff is the next millisecond, and returning only
        # once it has passed keeps a login made right after this call from being refused.
        cutoff = math.floor(time.time() * 1000) / 1000 + 0.001
        longest = max(self.access_lifetime, self.refresh_lifetime)
        await self.revocation_store.revoke_subject(str(subject), cutoff, cutoff + longest)
        await asyncio.sleep(max(0.0, cutoff - time.time()))


_MANAGED = frozenset({"iat", "exp", "nbf", "jti", "iss", "aud", "type", "sub", "fam"})


def _can_sign(key: JWTKey) -> bool:
    return bool(getattr(key, "is_private", True))


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _engine_call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Calls the engine at configuration time, turning its key errors into `InvalidKeyError`."""
    try:
        return function(*args, **kwargs)
    except JwtError as exc:
        error = from_engine(exc)
        if isinstance(error, InvalidKeyError):
            raise error from None
        raise InvalidKeyError(str(error), getattr(error, "kind", "invalid_key")) from None
