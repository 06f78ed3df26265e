"""Swagger UI and ReDoc take FastAPI's customisation options and stay offline by default: the
pages as HTML, and Swagger UI rendered by Debian's chromium with every non-loopback request
refused."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator

import pytest

from covet import Covet
from covet.openapi.docs import get_swagger_ui_html
from covet.testclient import TestClient
from tests.conftest import Server, start_server

EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


def pages(app: Covet) -> dict[str, str]:
    with TestClient(app) as client:
        return {path: client.get(path).text for path in ("/docs", "/redoc", "/docs/oauth2-redirect")}


def test_default_pages_load_nothing_from_another_host() -> None:
    for path, html in pages(Covet()).items():
        assert not EXTERNAL.search(html), path
        assert "http://" not in html and "https://" not in html, path


def test_custom_asset_urls() -> None:
    app = Covet(
        swagger_js_url="https://cdn.example/swagger-ui-bundle.js",
        swagger_css_url="/assets/swagger.css",
        swagger_favicon_url="/assets/icon.png",
        redoc_js_url="https://cdn.example/redoc.js",
        redoc_favicon_url="/assets/redoc-icon.png",
    )
    html = pages(app)
    assert '<script src="https://cdn.example/swagger-ui-bundle.js">' in html["/docs"]
    assert 'href="/assets/swagger.css"' in html["/docs"]
    assert 'href="/assets/icon.png"' in html["/docs"]
    assert "/_covet/static/swagger-ui" not in html["/docs"]
    assert '<script src="https://cdn.example/redoc.js">' in html["/redoc"]
    assert 'href="/assets/redoc-icon.png"' in html["/redoc"]
    assert "redoc.standalone.js" not in html["/redoc"]


def test_custom_asset_url_is_not_prefixed_with_the_root_path() -> None:
    app = Covet(swagger_css_url="/assets/swagger.css")
    with TestClient(app, root_path="/api") as client:
        html = client.get("/docs").text
    assert 'href="/assets/swagger.css"' in html  # given as is
    assert 'src="/api/_covet/static/swagger-ui-bundle.js"' in html  # covet's own: under the root


def test_swagger_ui_parameters_override_the_defaults() -> None:
    app = Covet(
        swagger_ui_parameters={"deepLinking": False, "syntaxHighlight": {"theme": "obsidian"}, "x": "</script>"}
    )
    html = pages(app)["/docs"]
    assert '"deepLinking": false' in html and '"deepLinking": true' not in html
    assert '"syntaxHighlight": {"theme": "obsidian"}' in html
    assert '"layout": "BaseLayout"' in html  # defaults not overridden stay
    assert '</script>"' not in html and "\\u003c/script\\u003e" in html  # cannot end the script


def test_init_oauth_and_a_custom_redirect_url() -> None:
    init = {"clientId": "my-client", "scopes": "openid profile", "usePkceWithAuthorizationCodeGrant": True}
    app = Covet(swagger_ui_init_oauth=init, swagger_ui_oauth2_redirect_url="/login/callback")
    with TestClient(app) as client:
        html = client.get("/docs").text
        assert client.get("/login/callback").status_code == 200
        assert client.get("/docs/oauth2-redirect").status_code == 404
    call = re.search(r"ui\.initOAuth\((.*)\);", html)
    assert call is not None and json.loads(call.group(1)) == init
    assert 'oauth2RedirectUrl: window.location.origin + "/login/callback"' in html


def test_helper_takes_fastapis_arguments() -> None:
    response = get_swagger_ui_html(
        openapi_url="/v1/openapi.json",
        title="Mine",
        swagger_js_url="/js",
        swagger_css_url="/css",
        swagger_favicon_url="/ico",
        oauth2_redirect_url="/cb",
        init_oauth={"clientId": "c"},
        swagger_ui_parameters={"filter": True},
    )
    html = response.body.decode()
    for piece in (
        'src="/js"',
        'href="/css"',
        'href="/ico"',
        '"/v1/openapi.json"',
        '"filter": true',
        "<title>Mine</title>",
    ):
        assert piece in html


# --- in a browser ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def docs_server() -> Iterator[Server]:
    server = start_server("tests.apps.basic:app")
    try:
        yield server
    finally:
        server.stop()


def test_swagger_ui_and_redoc_render_offline(docs_server: Server) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` (scripts/services.sh does)")
    elsewhere: list[str] = []
    with tempfile.TemporaryDirectory(prefix="covet-chromium-") as profile, sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS)
        try:

            def refuse_other_hosts(route: sync_api.Route) -> None:
                if route.request.url.startswith(docs_server.url):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            context.route("**/*", refuse_other_hosts)
            page = context.new_page()
            page.goto(f"{docs_server.url}/docs")
            sync_api.expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=20_000)
            sync_api.expect(page.locator(".opblock").first).to_be_visible()
            page.goto(f"{docs_server.url}/redoc")
            sync_api.expect(page.locator("h1").first).to_be_visible(timeout=20_000)
        finally:
            context.close()
    assert elsewhere == []


def test_redoc_images_limited_to_the_apps_origin() -> None:
    with TestClient(Covet()) as client:
        assert client.get("/redoc").headers["content-security-policy"] == "img-src 'self' data:"
    with TestClient(Covet(redoc_favicon_url="https://img.example/x/icon.png")) as client:
        policy = client.get("/redoc").headers["content-security-policy"]
    assert policy == "img-src 'self' data: https://img.example"
