"""The public API example through the real engine (TestClient)."""

from covet.testclient import TestClient
from examples.public_api.app import app

client = TestClient(app)
FRONTEND = {"origin": "http://localhost:5173"}


def test_the_frontend_may_post_after_a_preflight() -> None:
    preflight = client.options(
        "/notes",
        headers={**FRONTEND, "access-control-request-method": "POST", "access-control-request-headers": "content-type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    created = client.post("/notes", json={"text": "buy tea"}, headers=FRONTEND)
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert created.headers["access-control-expose-headers"] == "X-Total-Count"
    assert created.headers["x-content-type-options"] == "nosniff"
    assert created.headers["permissions-policy"] == "camera=(), geolocation=()"


def test_other_origins_and_hosts_are_refused() -> None:
    preflight = client.options(
        "/notes", headers={"origin": "https://evil.example", "access-control-request-method": "DELETE"}
    )
    assert preflight.status_code == 400
    assert preflight.json() == {"detail": "Disallowed CORS origin"}
    assert client.get("/notes", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/notes", headers={"host": "api.example.com"}).status_code == 200


def test_errors_carry_the_headers_too() -> None:
    missing = client.delete("/notes/999", headers=FRONTEND)
    assert missing.status_code == 404
    assert missing.headers["x-frame-options"] == "DENY"
    assert missing.headers["access-control-allow-origin"] == "http://localhost:5173"
