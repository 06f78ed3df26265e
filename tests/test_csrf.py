"""CSRF protection (`covet.csrf`) through the real engine: safe methods, tokens in the header and
in form fields (with the handler still reading the form), tokens from other sessions, exemptions,
tokens across login (session regenerate), with and without sessions; and on covet's own server."""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from covet import Covet, Request
from covet.csrf import CSRFMiddleware, csrf_input, csrf_token
from covet.sessions import MemorySessionBackend, RedisSessionBackend, SessionMiddleware
from covet.testclient import TestClient
from tests.apps.sessions import REDIS_URL, SECRET, make_app
from tests.conftest import Server

MULTIPART = "multipart/form-data; boundary=xyz"


@pytest.fixture(params=["cookie", "memory"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """An app with sessions and CSRF, sessions in the cookie or in memory."""
    backend = MemorySessionBackend() if request.param == "memory" else None
    with TestClient(make_app(backend, csrf=True)) as c:
        yield c


def form_token(client: TestClient) -> str:
    """The token of the hidden input of the app's HTML form, as a browser would submit it."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/form").text)
    assert match is not None
    return match.group(1)


def refused(response: Any, reason: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["reason"] == reason
    assert response.json()["detail"]


def test_safe_methods_pass_without_a_token(client: TestClient) -> None:
    assert client.get("/session").status_code == 200
    assert client.head("/session").status_code == 200
    assert client.options("/session").status_code in (200, 405)  # past CSRF: the router answers


def test_post_without_a_token_is_refused_and_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="covet.csrf"):
        response = client.post("/api", json={"a": 1})
    refused(response, "csrf_missing")
    assert "x-csrf-token" in response.json()["detail"] and "csrf_token" in response.json()["detail"]
    assert "CSRF check failed for POST /api" in caplog.text
    for method in ("PUT", "PATCH", "DELETE"):
        refused(client.request(method, "/api"), "csrf_missing")


def test_header_token_passes(client: TestClient) -> None:
    token = client.get("/token").json()["token"]
    response = client.post("/api", json={"a": 1}, headers={"x-csrf-token": token})
    assert response.status_code == 200 and response.json() == {"got": {"a": 1}}


def test_urlencoded_form_token_passes_and_the_handler_still_reads_the_form(client: TestClient) -> None:
    token = form_token(client)
    response = client.post("/submit", data={"name": "ann", "csrf_token": token})
    assert response.status_code == 200
    assert response.json() == {"name": "ann", "fields": ["csrf_token", "name"]}


def test_multipart_form_token_passes_and_the_handler_still_reads_the_form(client: TestClient) -> None:
    token = form_token(client)
    response = client.post("/submit", data={"name": "ann", "csrf_token": token}, files={"doc": ("a.txt", b"hi")})
    assert response.status_code == 200
    assert response.json() == {"name": "ann", "fields": ["csrf_token", "doc", "name"]}


def test_the_handler_can_still_read_the_raw_body_of_a_checked_form() -> None:
    app = Covet()

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, Any]:
        return {"body": (await request.body()).decode(), "form": dict(await request.form())}

    app.add_middleware(CSRFMiddleware, secret_key=SECRET)
    with TestClient(app) as client:
        token = client.get("/token").json()["token"]
        response = client.post("/raw", data={"a": "1", "csrf_token": token})
        assert response.json() == {"body": f"a=1&csrf_token={token}", "form": {"a": "1", "csrf_token": token}}


def test_a_file_part_is_not_a_token(client: TestClient) -> None:
    form_token(client)
    refused(client.post("/submit", files={"csrf_token": ("t.txt", b"x")}), "csrf_missing")


def test_malformed_multipart_body_gets_400_not_500(client: TestClient) -> None:
    form_token(client)
    response = client.post("/submit", content=b"--xyz\r\nbroken", headers={"content-type": MULTIPART})
    assert response.status_code == 400 and "detail" in response.json()


def test_tampered_token_is_invalid(client: TestClient) -> None:
    token = form_token(client)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[0] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    refused(client.post("/submit", data={"name": "x", "csrf_token": forged}), "csrf_invalid")
    refused(client.post("/api", headers={"x-csrf-token": "not-a-token"}), "csrf_invalid")


def test_each_rendering_gives_a_new_token_and_all_are_valid(client: TestClient) -> None:
    tokens = {form_token(client) for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        assert client.post("/api", json={}, headers={"x-csrf-token": token}).status_code == 200


def test_token_from_another_anonymous_browser_is_a_mismatch(client: TestClient) -> None:
    with TestClient(client.app) as other:
        theirs = form_token(other)
    form_token(client)  # this browser has its own CSRF cookie
    refused(client.post("/submit", data={"name": "x", "csrf_token": theirs}), "csrf_mismatch")


def test_token_without_the_csrf_cookie_is_refused(client: TestClient) -> None:
    token = form_token(client)
    client.cookies.clear()
    response = client.post("/submit", data={"name": "x", "csrf_token": token})
    refused(response, "csrf_mismatch")
    assert "csrftoken" in response.json()["detail"]


def test_csrf_cookie_flags(client: TestClient) -> None:
    response = client.get("/form")
    (line,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("csrftoken=")]
    assert "HttpOnly" in line and "SameSite=lax" in line and "Path=/" in line and "Secure" not in line
    # Only a response that issued a new secret sets the cookie.
    assert not [c for c in client.get("/form").headers.get_list("set-cookie") if c.startswith("csrftoken=")]
    with TestClient(client.app, base_url="https://testserver") as secure:
        lines = secure.get("/form").headers.get_list("set-cookie")
        assert any(c.startswith("csrftoken=") and "Secure" in c for c in lines)


def test_token_from_another_session_is_refused(client: TestClient) -> None:
    with TestClient(client.app) as attacker:
        attacker.post("/login", data={"user": "mallory", "csrf_token": form_token(attacker)})
        theirs = attacker.get("/token").json()["token"]
    client.post("/login", data={"user": "ann", "csrf_token": form_token(client)})
    refused(client.post("/api", json={}, headers={"x-csrf-token": theirs}), "csrf_session")


def test_login_retires_anonymous_tokens_and_the_new_token_works(client: TestClient) -> None:
    anonymous = form_token(client)
    login = client.post("/login", data={"user": "ann", "csrf_token": anonymous})
    assert login.status_code == 200
    # The token rendered by the login response itself is bound to the new session.
    assert client.post("/api", json={}, headers={"x-csrf-token": login.json()["token"]}).status_code == 200
    refused(client.post("/api", json={}, headers={"x-csrf-token": anonymous}), "csrf_session")


def test_regenerate_retires_the_previous_session_tokens(client: TestClient) -> None:
    client.post("/login", data={"user": "ann", "csrf_token": form_token(client)})
    before = client.get("/token").json()["token"]
    assert client.post("/api", json={}, headers={"x-csrf-token": before}).status_code == 200
    again = client.post("/login", data={"user": "ann", "csrf_token": before})  # regenerates the id
    assert again.status_code == 200
    refused(client.post("/api", json={}, headers={"x-csrf-token": before}), "csrf_session")
    assert client.post("/api", json={}, headers={"x-csrf-token": again.json()["token"]}).status_code == 200


def test_logout_ends_the_session_tokens(client: TestClient) -> None:
    login = client.post("/login", data={"user": "ann", "csrf_token": form_token(client)})
    token = login.json()["token"]
    assert client.post("/logout", headers={"x-csrf-token": token}).status_code == 200
    refused(client.post("/api", json={}, headers={"x-csrf-token": token}), "csrf_session")
    assert client.post("/api", json={}, headers={"x-csrf-token": form_token(client)}).status_code == 200


def test_exempt_route_and_exempt_path_pass(client: TestClient) -> None:
    assert client.post("/hook").json() == {"hooked": True}
    assert client.post("/webhooks/github").json() == {"hooked": True}


def test_unknown_path_and_method_get_404_and_405(client: TestClient) -> None:
    assert client.post("/nowhere").status_code == 404
    assert client.delete("/hook").status_code == 405


def test_csrf_input_escapes_and_marks_markup() -> None:
    app = Covet()

    @app.get("/")
    async def page(request: Request) -> dict[str, Any]:
        html = csrf_input(request)
        return {"html": html, "markup": html.__html__() == html}  # type: ignore[attr-defined]

    app.add_middleware(CSRFMiddleware, secret_key=SECRET, form_field='a"<b>')
    with TestClient(app) as client:
        body = client.get("/").json()
        assert body["markup"] is True
        assert body["html"].startswith('<input type="hidden" name="a&quot;&lt;b&gt;" value="')


def test_csrf_input_renders_unescaped_in_jinja2() -> None:
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(autoescape=True)
    env.globals.update(csrf_input=csrf_input, csrf_token=csrf_token)
    template = env.from_string("<form>{{ csrf_input(request) }}</form>")
    app = Covet()

    @app.get("/")
    async def page(request: Request) -> dict[str, str]:
        return {"html": template.render(request=request)}

    app.add_middleware(CSRFMiddleware, secret_key=SECRET)
    with TestClient(app) as client:
        html = client.get("/").json()["html"]
        assert html.startswith('<form><input type="hidden" name="csrf_token" value="')


def test_csrf_without_sessions_uses_the_cookie() -> None:
    app = Covet()

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.post("/act")
    async def act() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(CSRFMiddleware, secret_key=SECRET, header_name="x-xsrf", safe_methods=["GET"])
    with TestClient(app) as client:
        refused(client.post("/act"), "csrf_missing")
        token = client.get("/token").json()["token"]
        assert client.post("/act", headers={"x-xsrf": token}).json() == {"ok": True}


def test_helpers_and_order_are_checked() -> None:
    app = Covet()

    @app.get("/")
    async def page(request: Request) -> str:
        return csrf_token(request)

    with TestClient(app) as client, pytest.raises(AssertionError, match="CSRFMiddleware must be installed"):
        client.get("/")
    wrong = Covet()
    wrong.add_middleware(SessionMiddleware, secret_key=SECRET)
    wrong.add_middleware(CSRFMiddleware, secret_key=SECRET)  # outside the sessions: cannot see them
    with pytest.raises(RuntimeError, match="CSRFMiddleware must run inside SessionMiddleware"):
        TestClient(wrong).__enter__()
    with pytest.raises(ValueError, match="secret_key"):
        CSRFMiddleware(None, secret_key="")


# --- Redis sessions, and covet's own server ---------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"covet-test:csrf:{uuid.uuid4().hex}:"
    yield prefix
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(match=prefix + "*"))
    if keys:
        r.delete(*keys)
    r.close()


def test_token_after_regenerate_with_redis_sessions(redis_prefix: str) -> None:
    with TestClient(make_app(RedisSessionBackend(REDIS_URL, prefix=redis_prefix), csrf=True)) as client:
        login = client.post("/login", data={"user": "ann", "csrf_token": form_token(client)})
        first = login.json()["token"]
        second = client.post("/login", data={"user": "ann", "csrf_token": first}).json()["token"]
        refused(client.post("/api", json={}, headers={"x-csrf-token": first}), "csrf_session")
        assert client.post("/api", json={"x": 1}, headers={"x-csrf-token": second}).json() == {"got": {"x": 1}}


def test_csrf_on_covets_server(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch, redis_prefix: str
) -> None:
    monkeypatch.setenv("COVET_TEST_SESSION_PREFIX", redis_prefix)
    server = serve("tests.apps.sessions:app")
    with server.client() as client:
        refused(client.post("/submit", data={"name": "x"}), "csrf_missing")
        match = re.search(r'value="([^"]+)"', client.get("/form").text)
        assert match is not None
        ok = client.post("/submit", data={"name": "ann", "csrf_token": match.group(1)})
        assert ok.json() == {"name": "ann", "fields": ["csrf_token", "name"]}
        assert client.get("/session").status_code == 200  # still serving after a refusal
