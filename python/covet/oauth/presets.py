"""Where the well-known providers keep their endpoints, as options for `OAuth.register`.

Google and Auth0 are OpenID Connect providers found by discovery; GitHub is plain OAuth2 (no ID
token), so who logged in comes from its REST API. Each function returns keyword options, so any
of them can be overridden at registration.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.httpx_client import AsyncOAuth2Client

from covet.oauth._http import http as httpx
from covet.oauth.errors import ProviderUnavailable, UserInfoFailed
from covet.oauth.provider import UserInfoFetcher, fetch_userinfo_json

__all__ = ["GOOGLE_DISCOVERY_URL", "google", "github", "auth0", "oidc"]

GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"


def google() -> dict[str, Any]:
    """Google's OpenID Connect; its ID tokens may name the issuer with or without `https://`."""
    return {
        "server_metadata_url": GOOGLE_DISCOVERY_URL,
        "scope": "openid email profile",
        "issuers": ["accounts.google.com"],
    }


def github(base_url: str = "https://github.com", api_url: str = "https://api.github.com") -> dict[str, Any]:
    """GitHub (or GitHub Enterprise, by its URLs): OAuth2 only; the user comes from `GET /user`."""
    base_url, api_url = base_url.rstrip("/"), api_url.rstrip("/")
    return {
        "authorize_url": f"{base_url}/login/oauth/authorize",
        "token_url": f"{base_url}/login/oauth/access_token",
        "userinfo_url": f"{api_url}/user",
        "scope": "read:user user:email",
        "fetch_userinfo": _github_userinfo(api_url),
    }


def auth0(domain: str, audience: str | None = None) -> dict[str, Any]:
    """An Auth0 tenant by its domain (`tenant.eu.auth0.com` or a custom domain); `audience` asks
    for an access token for that API."""
    domain = domain.removeprefix("https://").removeprefix("http://").strip("/")
    if not domain or "/" in domain:
        raise ValueError(f"auth0(domain=...) takes a bare domain such as 'tenant.eu.auth0.com', not {domain!r}")
    options: dict[str, Any] = {
        "server_metadata_url": f"https://{domain}/.well-known/openid-configuration",
        "scope": "openid email profile",
    }
    if audience is not None:
        options["authorize_params"] = {"audience": audience}
    return options


def oidc(discovery_url: str) -> dict[str, Any]:
    """Any OpenID Connect provider, by the URL of its `.well-known/openid-configuration`."""
    if not discovery_url.endswith("/.well-known/openid-configuration"):
        raise ValueError(f"{discovery_url!r} is not a discovery URL (…/.well-known/openid-configuration)")
    return {"server_metadata_url": discovery_url, "scope": "openid email profile"}


def _github_userinfo(api_url: str) -> UserInfoFetcher:
    async def fetch(client: AsyncOAuth2Client, token: Any) -> dict[str, Any]:
        user = await fetch_userinfo_json(client, f"{api_url}/user", "github")
        if "id" not in user:
            raise UserInfoFailed("GitHub's /user answer has no id", provider="github")
        user["sub"] = str(user["id"])
        if not user.get("email"):
            # A private primary address is only listed by /user/emails (scope user:email).
            user["email"] = await _github_primary_email(client, api_url)
        return user

    return fetch


async def _github_primary_email(client: AsyncOAuth2Client, api_url: str) -> str | None:
    try:
        response = await client.get(f"{api_url}/user/emails", headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"cannot reach {api_url}/user/emails: {exc!r}", provider="github") from None
    if response.status_code != 200:
        return None
    try:
        emails = response.json()
    except ValueError:
        return None
    for entry in emails if isinstance(emails, list) else []:
        if isinstance(entry, dict) and entry.get("primary") and entry.get("verified"):
            return str(entry.get("email"))
    return None
