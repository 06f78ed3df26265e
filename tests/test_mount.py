"""ASGI apps mounted under a covet app: through TestClient, covet's server and uvicorn."""

from __future__ import annotations

import httpx

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
