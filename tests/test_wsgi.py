"""WSGIMiddleware: a WSGI app mounted in a covet app sees a PEP 3333 environ and its answers
reach the client, through TestClient, covet's server and uvicorn."""

from __future__ import annotations

import httpx

from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.wsgi_app:app")


def test_environ_and_response(client: httpx.Client) -> None:
    response = client.post("/legacy/items/é?x=1", content=b"hello", headers={"x-thing": "abc"})
    assert response.status_code == 201
    assert response.headers["x-legacy"] == "yes"
    assert response.json() == {
        "method": "POST",
        "script_name": "/legacy",
        "path_info": "/items/é".encode().decode("latin-1"),
        "query": "x=1",
        "header": "abc",
        "body": "hello",
    }


def test_streamed_body_and_routes_beside_it(client: httpx.Client) -> None:
    assert client.get("/legacy/stream").text == "part0;part1;part2;"
    assert client.get("/api").json() == "covet"
