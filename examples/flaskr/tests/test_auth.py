"""Flask tutorial's test_auth: register, login (with the user loaded by the before_request
hook), logout, and the validation messages flashed on failures."""

from __future__ import annotations

import pytest

from covet import Covet
from covet.passwords import verify_password
from covet.testclient import TestClient
from examples.flaskr.db import connect


def test_register(client: TestClient, app: Covet) -> None:
    assert client.get("/auth/register").status_code == 200
    response = client.post("/auth/register", data={"username": "a", "password": "a"})
    assert response.status_code == 303 and response.headers["location"] == "/auth/login"
    row = connect(app.config["DATABASE"]).execute("SELECT * FROM user WHERE username = 'a'").fetchone()
    assert row is not None and row["password"] != "a" and verify_password("a", row["password"])


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", "Username is required."),
        ("a", "", "Password is required."),
        ("test", "test", "already registered"),
    ],
)
def test_register_validate_input(client: TestClient, username: str, password: str, message: str) -> None:
    response = client.post("/auth/register", data={"username": username, "password": password})
    assert message in response.text


def test_login(client: TestClient, auth: object) -> None:
    assert client.get("/auth/login").status_code == 200
    response = auth.login()  # type: ignore[attr-defined]
    assert response.headers["location"] == "/"
    page = client.get("/")
    assert "<span>test</span>" in page.text and "Log Out" in page.text  # request.state.user, set by the hook


@pytest.mark.parametrize(
    ("username", "password", "message"), [("a", "test", "Incorrect username."), ("test", "a", "Incorrect password.")]
)
def test_login_validate_input(auth: object, username: str, password: str, message: str) -> None:
    response = auth.login(username, password)  # type: ignore[attr-defined]
    assert message in response.text


def test_logout(client: TestClient, auth: object) -> None:
    auth.login()  # type: ignore[attr-defined]
    assert "Log Out" in client.get("/").text
    auth.logout()  # type: ignore[attr-defined]
    page = client.get("/")
    assert "Log In" in page.text and "Log Out" not in page.text
