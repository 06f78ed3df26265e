"""`OAuth`: the app's set of login providers, reached by name (`oauth.google`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from covet.oauth import presets
from covet.oauth.provider import OAuthProvider
from covet.oauth.transaction import TransactionCodec

__all__ = ["OAuth"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class OAuth:
    """Providers registered once at startup; `secret_key` signs their login transaction cookies."""

    def __init__(self, secret_key: str | bytes) -> None:
        self._codec = TransactionCodec(secret_key)
        self._providers: dict[str, OAuthProvider] = {}

    def register(self, name: str, **options: Any) -> OAuthProvider:
        """Any provider: OpenID Connect by `server_metadata_url`, or OAuth2 by explicit endpoints."""
        if not _NAME.match(name):
            raise ValueError(f"provider name {name!r} must be letters, digits, '_' or '-' (it names a cookie)")
        if name in self._providers:
            raise ValueError(f"an OAuth provider named {name!r} is already registered")
        provider = OAuthProvider(name, codec=self._codec, **options)
        self._providers[name] = provider
        return provider

    def register_oidc(self, name: str, discovery_url: str, *, client_id: str, **options: Any) -> OAuthProvider:
        return self.register(name, **{**presets.oidc(discovery_url), "client_id": client_id, **options})

    def register_google(
        self, *, client_id: str, client_secret: str, name: str = "google", **options: Any
    ) -> OAuthProvider:
        return self.register(
            name, **{**presets.google(), "client_id": client_id, "client_secret": client_secret, **options}
        )

    def register_github(
        self, *, client_id: str, client_secret: str, name: str = "github", **options: Any
    ) -> OAuthProvider:
        base = {k: options.pop(k) for k in ("base_url", "api_url") if k in options}
        return self.register(
            name, **{**presets.github(**base), "client_id": client_id, "client_secret": client_secret, **options}
        )

    def register_auth0(
        self, domain: str, *, client_id: str, audience: str | None = None, name: str = "auth0", **options: Any
    ) -> OAuthProvider:
        return self.register(name, **{**presets.auth0(domain, audience), "client_id": client_id, **options})

    def __getattr__(self, name: str) -> OAuthProvider:
        try:
            return self.__dict__["_providers"][name]
        except KeyError:
            raise AttributeError(f"no OAuth provider named {name!r} is registered") from None

    def __getitem__(self, name: str) -> OAuthProvider:
        return self._providers[name]

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)
