"""Log in with any OpenID Connect provider, configured from the environment.

    OIDC_DISCOVERY_URL   https://accounts.example/.well-known/openid-configuration
    OIDC_CLIENT_ID       the client id the provider gave this app
    OIDC_CLIENT_SECRET   its secret (leave unset for a public client: PKCE alone)
    OAUTH_SECRET_KEY     signs the login transaction cookie (any long random string)

    covet run examples.oidc_login.app:app

Register `http://127.0.0.1:8000/auth` as the redirect URI at the provider, then open
http://127.0.0.1:8000/. This example only shows who logged in; keeping them logged in is a
session's job.
"""

from __future__ import annotations

import html
import json
import os

from covet import Covet, Request
from covet.oauth import OAuth
from covet.responses import HTMLResponse, RedirectResponse


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"examples.oidc_login needs ${name}: see the top of examples/oidc_login/app.py")
    return value


app = Covet()
oauth = OAuth(secret_key=_env("OAUTH_SECRET_KEY"))
oauth.register_oidc(
    "provider",
    _env("OIDC_DISCOVERY_URL"),
    client_id=_env("OIDC_CLIENT_ID"),
    client_secret=os.environ.get("OIDC_CLIENT_SECRET") or None,
)


@app.get("/")
async def home() -> HTMLResponse:
    return HTMLResponse('<h1>covet OIDC login</h1><p><a href="/login">Log in</a></p>')


@app.get("/login")
async def login(request: Request) -> RedirectResponse:
    return await oauth.provider.authorize_redirect(request, request.url_for("auth"))


@app.get("/auth")
async def auth(request: Request) -> HTMLResponse:
    token = await oauth.provider.authorize_access_token(request)
    user = token["userinfo"]
    name = user.get("name") or user.get("preferred_username") or user["sub"]
    page = (
        f"<h1>Hello, {html.escape(name)}</h1>"
        f"<h2>ID token claims (verified)</h2><pre>{html.escape(json.dumps(token['id_token_claims'], indent=2))}</pre>"
        f"<h2>Userinfo</h2><pre>{html.escape(json.dumps(user, indent=2))}</pre>"
    )
    return oauth.provider.clear_transaction(request, HTMLResponse(page))
