"""An app that logs in through the loopback OpenID Connect provider of tests/oidc_provider.py.

`OIDC_ISSUER` names the provider. One provider is registered per test client of the provider
(the well-behaved confidential and public clients, and each misbehaving one), each with its own
`/login/{name}` and `/callback/{name}`.
"""

from __future__ import annotations

import os

from covet import Covet, HTTPException, Request
from covet.oauth import OAuth
from covet.responses import RedirectResponse, Response

ISSUER = os.environ.get("OIDC_ISSUER", "http://127.0.0.1:9")
DISCOVERY = f"{ISSUER}/.well-known/openid-configuration"
SECRET = "covet-test-secret"

app = Covet()
oauth = OAuth(secret_key="covet-oauth-test-signing-key-0123456789")
oauth.register_oidc("main", DISCOVERY, client_id="covet-app", client_secret=SECRET)
oauth.register_oidc("public", DISCOVERY, client_id="covet-public")
for fault in ("wrong-aud", "wrong-nonce", "tampered", "forged", "expired", "denied"):
    oauth.register_oidc(fault, DISCOVERY, client_id=f"covet-{fault}", client_secret=SECRET)
# Nothing listens on port 9 of loopback (discard): a provider that is down.
oauth.register_oidc("down", "http://127.0.0.1:9/.well-known/openid-configuration", client_id="covet-app")
# An OAuth2-only login (no openid scope), as with GitHub: no ID token, the user from an API.
oauth.register(
    "plain",
    client_id="covet-app",
    client_secret=SECRET,
    scope="profile email",
    authorize_url=f"{ISSUER}/authorize",
    token_url=f"{ISSUER}/token",
    userinfo_url=f"{ISSUER}/api/me",
)


@app.get("/login/{name}")
async def login(request: Request, name: str) -> RedirectResponse:
    if name not in oauth:
        raise HTTPException(404, f"no provider {name!r}")
    return await oauth[name].authorize_redirect(request, request.url_for("callback", name=name))


@app.get("/callback/{name}")
async def callback(request: Request, name: str, response: Response) -> dict:
    if name not in oauth:
        raise HTTPException(404, f"no provider {name!r}")
    provider = oauth[name]
    token = await provider.authorize_access_token(request)
    provider.clear_transaction(request, response)
    return {
        "userinfo": token["userinfo"],
        "claims": token["id_token_claims"],
        "token_type": token["token_type"],
        "has_access_token": bool(token["access_token"]),
    }


@app.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/login/main")
