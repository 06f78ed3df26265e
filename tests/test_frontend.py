"""app.frontend(): a built single-page app behind the API, through TestClient, covet's server
and uvicorn: routes win, files and directory indexes are served, a browser's navigation gets
the app shell, 404.html where there is one, router dependencies guard a router's frontend."""

from __future__ import annotations

import httpx
import pytest

from covet import Covet
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.frontend_app:app")
PAGE = {"accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def test_routes_win_and_their_404_stays(client: httpx.Client) -> None:
    assert client.get("/api/items").json() == [1, 2]
    missing = client.get("/api/missing", headers=PAGE)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no such item"}


def test_files_and_directory_index(client: httpx.Client) -> None:
    assert client.get("/asset.js").text == "console.log(1)"
    assert client.get("/").text == "shell"
    redirect = client.get("/about", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"].endswith("/about/")
    assert client.get("/about/").text == "about"


def test_navigation_gets_the_shell_other_requests_a_404(client: httpx.Client) -> None:
    page = client.get("/dashboard/settings", headers=PAGE)
    assert (page.status_code, page.text) == (200, "shell")
    data = client.get("/dashboard/settings", headers={"accept": "application/json"})
    assert data.status_code == 404
    assert data.json() == {"detail": "Not Found"}
    refused = client.get("/dashboard", headers={"accept": "text/html;q=0"})
    assert refused.status_code == 404


def test_methods_other_than_get_and_head(client: httpx.Client) -> None:
    assert client.head("/asset.js").status_code == 200
    assert client.post("/asset.js").status_code == 405
    assert client.post("/no-such-file").status_code == 404


def test_router_frontend_with_its_dependencies_and_404_page(client: httpx.Client) -> None:
    assert client.get("/admin/", headers=PAGE).status_code == 403
    admin = {**PAGE, "x-admin": "yes"}
    assert client.get("/admin/", headers=admin).text == "admin shell"
    lost = client.get("/admin/nowhere", headers=admin)
    assert (lost.status_code, lost.text) == (404, "admin lost")


def test_declaration_errors(tmp_path) -> None:
    app = Covet()
    with pytest.raises(AssertionError, match="fallback"):
        app.frontend("/", directory=tmp_path, fallback="other")
    with pytest.raises(AssertionError, match="start with"):
        app.frontend("ui", directory=tmp_path)
    with pytest.raises(RuntimeError, match="does not exist"):
        app.frontend("/", directory=tmp_path / "absent")
    with pytest.raises(RuntimeError, match="fallback file '404.html'"):
        app.frontend("/", directory=tmp_path, fallback="404.html")


def test_frontend_routes_view_matches_by_longest_prefix(tmp_path) -> None:
    import anyio

    from covet import Depends
    from covet.route_matching import Match, NoMatchFound

    (tmp_path / "index.html").write_text("shell")
    calls: list[str] = []
    app = Covet(dependencies=[Depends(lambda: calls.append("dep"))])
    app.frontend("/", directory=tmp_path)
    app.frontend("/app", directory=tmp_path)
    group = app._frontend_routes
    assert group is not None and [r.path for r in group.routes] == ["/app", "/"]
    assert group.matches({"type": "websocket", "path": "/app"}) == (Match.NONE, {})
    match, child = group.matches_with_prefix({"type": "http", "path": "/p/app/x.js"}, "/p")
    assert (match, child["fastapi"]["frontend_path"]) == (Match.FULL, "x.js")
    with pytest.raises(NoMatchFound):
        group.url_path_for("frontend")
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/app/", "headers": [], "query_string": b""}
    anyio.run(group.handle, scope, receive, send)
    assert sent[0]["status"] == 200 and calls == ["dep"]  # served through the app, dependencies run
    assert Covet()._frontend_routes is None


def test_frontend_lookup_errors(tmp_path, monkeypatch) -> None:
    import errno

    from covet.testclient import TestClient

    (tmp_path / "index.html").write_text("shell")
    app = Covet()
    app.frontend("/", directory=tmp_path)
    files = app._frontend_routes.routes[0].app  # type: ignore[union-attr]
    for error, status in ((PermissionError(), 401), (OSError(errno.ENAMETOOLONG, "long"), 404), (ValueError(), 404)):

        def fail(path: str, error: Exception = error) -> None:
            raise error

        monkeypatch.setattr(files, "lookup_path", fail)
        assert TestClient(app).get("/asset.txt").status_code == status
