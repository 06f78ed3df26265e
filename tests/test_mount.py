"""ASGI apps mounted under a covet app: through TestClient, covet's server and uvicorn."""

from __future__ import annotations

from pathlib import Path

import httpx

from covet import Covet
from covet.staticfiles import StaticFiles
from covet.testclient import TestClient
from tests.apps.mounted import app
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.mounted:app")


def test_mounted_fastapi_app(client: httpx.Client) -> None:
    assert client.get("/native").json() == {"native": True}
    assert client.get("/legacy/hello/ada?q=2").json() == {"legacy": "ada", "q": 2}
    assert client.post("/legacy/echo", json={"a": 1}).json() == {"a": 1}
    assert client.get("/legacy/stream").text == "part0;part1;part2;"
    missing = client.get("/legacy/nope")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}


def test_bare_asgi_app_sees_root_path(client: httpx.Client) -> None:
    assert client.get("/bare/x/y").text == "/bare|/bare/x/y"


def test_mounts_are_not_in_openapi() -> None:
    assert "/legacy/hello/{name}" not in app.openapi()["paths"]
    assert "/native" in app.openapi()["paths"]


def test_mount_at_slash_serves_everything_the_routes_do_not(tmp_path: Path) -> None:
    # Starlette's meaning of `app.mount("/", StaticFiles(...))`: a site's files under every path.
    (tmp_path / "index.html").write_text("<h1>site</h1>")
    site_app = Covet()

    @site_app.get("/api")
    def api() -> dict[str, int]:
        return {"a": 1}

    site_app.mount("/", StaticFiles(directory=tmp_path, html=True))
    with TestClient(site_app) as client:
        assert client.get("/").text == "<h1>site</h1>"
        assert client.get("/index.html").status_code == 200
        assert client.get("/api").json() == {"a": 1}
        assert client.get("/missing").status_code == 404
