"""Provider metadata (OpenID Connect discovery) and signing keys (JWKS), fetched once and cached.

A login must not cost two extra round trips to the provider, so the discovery document and the
key set are kept per URL in the process, and reused while younger than the reader's `ttl`. The
key set is fetched again early when an ID token names a key (`kid`) that the cached set lacks:
that is how providers rotate keys.
"""

from __future__ import annotations

import time
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from covet.oauth._http import http as httpx
from covet.oauth.errors import ProviderUnavailable

__all__ = ["fetch_json", "load_metadata", "load_jwks", "clear_caches"]

_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, tuple[float, KeySet]] = {}


def clear_caches() -> None:
    """Forgets every cached discovery document and key set (after a provider's config changed)."""
    _metadata.clear()
    _jwks.clear()


async def fetch_json(url: str, *, what: str, provider: str, timeout: float) -> dict[str, Any]:
    """GETs a JSON object; any failure is the provider's, reported as 502."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"cannot fetch the {what} from {url}: {exc!r}", provider=provider) from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"the {what} at {url} answered {response.status_code}", provider=provider)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"the {what} at {url} is not a JSON object", provider=provider)
    return data


async def load_metadata(url: str, *, provider: str, ttl: float, timeout: float) -> dict[str, Any]:
    """The discovery document at `url`, from cache when fresh.

    Its `issuer` must be the URL it was served from, less `/.well-known/openid-configuration`
    (OpenID Connect Discovery, section 4.3): a document that names another issuer could make
    this app accept that issuer's tokens.
    """
    now = time.monotonic()
    cached = _metadata.get(url)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    data = await fetch_json(url, what="discovery document", provider=provider, timeout=timeout)
    issuer = data.get("issuer")
    suffix = "/.well-known/openid-configuration"
    if not isinstance(issuer, str) or not url.endswith(suffix) or issuer.rstrip("/") != url[: -len(suffix)]:
        raise ProviderUnavailable(f"the discovery document at {url} names issuer {issuer!r}", provider=provider)
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(data.get(key), str):
            raise ProviderUnavailable(f"the discovery document at {url} has no {key}", provider=provider)
    _metadata[url] = (now, data)
    return data


async def load_jwks(url: str, *, provider: str, ttl: float, timeout: float, refresh: bool = False) -> KeySet:
    """The provider's public keys, from cache unless stale or `refresh` is asked for."""
    now = time.monotonic()
    cached = _jwks.get(url)
    if cached is not None and now - cached[0] < ttl and not refresh:
        return cached[1]
    data = await fetch_json(url, what="key set (JWKS)", provider=provider, timeout=timeout)
    try:
        keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderUnavailable(f"the key set at {url} cannot be read: {exc}", provider=provider) from None
    _jwks[url] = (now, keys)
    return keys
