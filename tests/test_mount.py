"""ASGI apps mounted under a covet app: through TestClient, covet's server and uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from covet.testclient import TestClient
from tests.apps.mounted import app
from tests.conftest import start_server


@pytest.fixture(scope="module", params=["testclient", "covet", "uvicorn"])
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    if request.param == "testclient":
        with TestClient(app) as tc:
            yield tc
        return
    server = start_server("tests.apps.mounted:app", kind=request.param)
    try:
        with server.client() as c:
            yield c
    finally:
        server.stop()


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
