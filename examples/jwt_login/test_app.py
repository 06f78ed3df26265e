"""The JWT login example, driven through the real engine by TestClient."""

from __future__ import annotations

from covet.testclient import TestClient
from examples.jwt_login.app import app

client = TestClient(app)


def login(username: str, password: str) -> dict[str, str]:
    response = client.post("/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_refresh_logout() -> None:
    pair = login("ada", "lovelace")
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900
    assert client.get("/me", headers=bearer(pair["access_token"])).json() == {"user": "ada", "scope": "profile admin"}
    assert client.get("/admin", headers=bearer(pair["access_token"])).json() == {"welcome": "ada"}

    fresh = client.post("/token/refresh", json={"refresh_token": pair["refresh_token"]}).json()
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 200
    replay = client.post("/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 401

    again = login("ada", "lovelace")
    out = client.post("/logout", headers=bearer(again["access_token"]), json={"refresh_token": again["refresh_token"]})
    assert out.json() == {"status": "logged out"}
    assert client.get("/me", headers=bearer(again["access_token"])).status_code == 401
    assert client.post("/token/refresh", json={"refresh_token": again["refresh_token"]}).status_code == 401


def test_wrong_password_scopes_and_logout_everywhere() -> None:
    assert client.post("/token", data={"username": "ada", "password": "nope"}).status_code == 401
    assert client.post("/token", data={"username": "eve", "password": "x"}).status_code == 401
    bob = login("bob", "builder")
    assert client.get("/admin", headers=bearer(bob["access_token"])).status_code == 403
    assert client.get("/me").status_code == 401
    second = login("bob", "builder")
    assert client.post("/logout/all", headers=bearer(second["access_token"])).status_code == 200
    assert client.get("/me", headers=bearer(bob["access_token"])).status_code == 401
    assert client.get("/me", headers=bearer(login("bob", "builder")["access_token"])).status_code == 200


def test_jwks_is_published() -> None:
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert [(k["kid"], k["alg"], k["kty"], k["crv"]) for k in keys] == [("example", "EdDSA", "OKP", "Ed25519")]
