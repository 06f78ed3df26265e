"""ID token checks (OpenID Connect Core, section 3.1.3.7), done with joserfc.

The ID token is what tells the app who logged in, so everything in it is checked before any
claim is used: the signature against the provider's published keys, with an algorithm the
provider advertises (never `none`, never a MAC keyed with something public); the issuer; that
this app is the audience (and the authorized party when there are several); expiry and issue
time, with a small leeway for clock skew; the nonce this browser's login was sent out with; and
`at_hash` when present, which ties the token to the access token it came with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from covet.oauth.errors import InvalidIDToken

__all__ = ["validate_id_token"]

KeyLoader = Callable[[bool], Awaitable[KeySet]]


async def validate_id_token(
    id_token: str,
    *,
    load_keys: KeyLoader,
    issuers: Collection[str],
    client_id: str,
    nonce: str | None,
    algorithms: Collection[str],
    leeway: int = 60,
    access_token: str | None = None,
    provider: str = "",
) -> dict[str, Any]:
    """The verified claims of `id_token`; InvalidIDToken names the first check that failed."""

    def fail(reason: str) -> InvalidIDToken:
        return InvalidIDToken(f"the ID token {reason}", provider=provider)

    allowed = [alg for alg in algorithms if alg != "none" and not alg.startswith("HS")]
    try:
        header = extract_compact(id_token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise fail(f"is not a JWS: {exc}") from None
    alg = header.get("alg")
    if alg not in allowed:
        raise fail(f"is signed with {alg!r}, not one of {allowed}")
    try:
        token = await _decode(id_token, load_keys, allowed)
    except InvalidKeyIdError:
        raise fail(f"names key {header.get('kid')!r}, which the provider does not publish") from None
    except JoseError as exc:
        raise fail(f"has a bad signature ({exc.error})") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=leeway,
        iss={"essential": True, "values": list(issuers)},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise fail(f"failed its claims check ({exc.error}: {exc.description})") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise fail(f"has several audiences and its azp is {claims.get('azp')!r}, not this client")
    if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise fail("carries another nonce than this login's (replayed or mixed-up token)")
    if access_token is not None and "at_hash" in claims and claims["at_hash"] != _half_hash(access_token, alg):
        raise fail("does not match its access token (at_hash)")
    return claims


async def _decode(id_token: str, load_keys: KeyLoader, algorithms: list[str]) -> jwt.Token:
    """Verifies with the cached key set, fetching it again once if the token's key is unknown."""
    try:
        return jwt.decode(id_token, await load_keys(False), algorithms)
    except InvalidKeyIdError:
        return jwt.decode(id_token, await load_keys(True), algorithms)


def _half_hash(value: str, alg: str) -> str:
    """The left half of the hash of `value` that matches the signing algorithm, base64url."""
    digest = hashlib.new("sha512" if alg == "EdDSA" else "sha" + alg[2:], value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")
