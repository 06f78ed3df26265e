"""The example served by covet's own server, logging in through the loopback OpenID Connect
provider of tests/oidc_provider.py (the test client and its secret are the provider's)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.oidc_provider import SECRET, running_provider


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_provider() as issuer:
        env = {
            "OIDC_DISCOVERY_URL": f"{issuer}/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "covet-app",
            "OIDC_CLIENT_SECRET": SECRET,
            "OAUTH_SECRET_KEY": "example-signing-key-0123456789abcdef",
        }
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)  # the server process inherits them
        try:
            app = start_server("examples.oidc_login.app:app")
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key)
                else:
                    os.environ[key] = value
        yield app
        app.stop()


def test_login_shows_the_user(server: Server) -> None:
    with httpx.Client(timeout=10) as browser:
        assert 'href="/login"' in browser.get(f"{server.url}/").text
        to_provider = browser.get(f"{server.url}/login")
        assert to_provider.status_code == 302
        back = browser.get(to_provider.headers["location"])
        assert back.status_code == 302 and back.headers["location"].startswith(f"{server.url}/auth?code=")
        page = browser.get(back.headers["location"])
    assert page.status_code == 200, page.text
    assert "<h1>Hello, Ada Lovelace</h1>" in page.text
    assert "&quot;sub&quot;: &quot;user-42&quot;" in page.text
    assert "max-age=0" in page.headers["set-cookie"].lower()


def test_callback_without_login_is_400(server: Server) -> None:
    out = httpx.get(f"{server.url}/auth?code=x&state=y", timeout=10)
    assert out.status_code == 400
    assert out.json()["detail"]["error"] == "transaction_missing"
