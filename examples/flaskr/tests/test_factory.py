"""Flask tutorial's test_factory: the factory takes a test configuration; /hello answers."""

from __future__ import annotations

from covet.testclient import TestClient
from examples.flaskr.app import create_app


def test_config() -> None:
    assert create_app().config["DATABASE"].endswith("flaskr.sqlite")
    assert create_app({"DATABASE": "/tmp/x.sqlite"}).config["DATABASE"] == "/tmp/x.sqlite"


def test_hello(client: TestClient) -> None:
    assert client.get("/hello").json() == "Hello, World!"
