"""The example app, driven through the real engine by TestClient."""

from covet.testclient import TestClient
from examples.hello.app import app

client = TestClient(app)


def test_root() -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}


def test_user_and_query() -> None:
    response = client.get("/users/2?q=hi")
    assert response.json() == {"id": "2", "name": "grace", "q": "hi"}
    assert client.get("/users/9").json() == {"detail": "No such user"}


def test_hello_and_stream() -> None:
    assert client.get("/hello/covet").text == "Hello, covet!"
    assert client.get("/count?n=3").text == "0\n1\n2\n"
