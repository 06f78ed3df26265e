"""The login example through the real engine: CSRF on the forms, the session across requests,
a new session id at login, logout."""

from __future__ import annotations

import re

from covet.testclient import TestClient
from examples.sessions_login.app import app


def token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def test_login_visit_logout() -> None:
    with TestClient(app) as client:
        start = client.get("/")
        assert start.url.path == "/login" and "<form" in start.text
        form_token = token(start.text)

        # A forged cross-site post has no token.
        refused = client.post("/login", data={"username": "ada", "password": "lovelace"})
        assert refused.status_code == 403 and refused.json()["reason"] == "csrf_missing"

        wrong = client.post("/login", data={"username": "ada", "password": "nope", "csrf_token": form_token})
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text

        before = client.cookies.get("session")
        home = client.post("/login", data={"username": "ada", "password": "lovelace", "csrf_token": form_token})
        assert home.status_code == 200 and "Hello, ada" in home.text and "Visits this session: 1" in home.text
        assert client.cookies.get("session") not in (None, before)
        assert "Visits this session: 2" in client.get("/").text

        # The anonymous token belonged to the time before login; the page's token works.
        assert client.post("/logout", data={"csrf_token": form_token}).status_code == 403
        out = client.post("/logout", data={"csrf_token": token(home.text)})
        assert out.url.path == "/login"
        assert client.cookies.get("session") is None
        assert client.get("/").url.path == "/login"
