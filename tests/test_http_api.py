"""The shared suite: the same requests through covet's server, uvicorn (ASGI) and TestClient
must give the same answers."""

from __future__ import annotations

import time

import httpx

from covet.testclient import TestClient
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.basic:app", raise_server_exceptions=False)


def test_json(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == b'{"hello":"world"}'
    assert r.headers["content-length"] == "17"


def test_plaintext_and_html(client: httpx.Client) -> None:
    r = client.get("/plaintext")
    assert r.text == "Hello, World!"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"


def test_path_params_and_converters(client: httpx.Client) -> None:
    assert client.get("/users/abc?q=x").json() == {"id": "abc", "q": "x"}
    assert client.get("/ints/42").json() == {"n": 42, "type": "int"}
    assert client.get("/ints/abc").status_code == 404
    assert client.get("/floats/1.5").json() == {"x": 1.5}
    u = "12345678-1234-5678-1234-567812345678"
    assert client.get(f"/uuids/{u}").json() == {"u": u}
    assert client.get("/uuids/not-a-uuid").status_code == 404
    assert client.get("/files/a/b/c.txt").json() == {"p": "a/b/c.txt"}
    assert client.get("/users/caf%C3%A9").json()["id"] == "café"


def test_query_params(client: httpx.Client) -> None:
    r = client.get("/query?tag=a&tag=b&empty=&sp=a+b%21")
    assert r.json() == {
        "all": [["tag", "a"], ["tag", "b"], ["empty", ""], ["sp", "a b!"]],
        "tags": ["a", "b"],
    }
    assert client.get("/typed?limit=5&flag=true").json() == {"limit": 5, "flag": True}
    assert client.get("/typed").json() == {"limit": 10, "flag": False}
    bad = client.get("/typed?limit=abc")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "limit"]


def test_headers_and_cookies(client: httpx.Client) -> None:
    r = client.get(
        "/headers",
        headers=[("X-Multi", "1"), ("x-multi", "2"), ("User-Agent", "ua/1"), ("Cookie", "a=1; b=two")],
    )
    assert r.json() == {
        "x_multi": ["1", "2"],
        "ua": "ua/1",
        "cookies": {"a": "1", "b": "two"},
        "client_is_set": True,
        "url_path": "/headers",
        "method": "GET",
    }


def test_bodies(client: httpx.Client) -> None:
    r = client.post("/echo", content=b"raw bytes", headers={"content-type": "text/x-test"})
    assert r.content == b"raw bytes"
    assert r.headers["content-type"] == "text/x-test; charset=utf-8"
    assert client.post("/json", json={"a": [1, 2]}).json() == {"received": {"a": [1, 2]}}
    assert client.post("/stream-in", content=b"x" * 10000).json() == {"size": 10000}


def test_status_code_and_pydantic_return(client: httpx.Client) -> None:
    r = client.post("/items", json={"name": "pen", "price": 1.5})
    assert r.status_code == 201
    assert r.json() == {"name": "pen", "price": 1.5, "tags": []}
    assert client.put("/items/3").json() == {"updated": 3}
    r = client.delete("/items/3")
    assert r.status_code == 204
    assert r.content == b""


def test_return_value_types(client: httpx.Client) -> None:
    assert client.get("/types").json() == {
        "dt": "2026-01-02T03:04:05",
        "d": "2026-01-02",
        "u": "12345678-1234-5678-1234-567812345678",
        "dec": 1.5,
        "color": "red",
        "point": {"x": 1, "y": 2},
        "model": {"name": "x", "price": 1.0, "tags": []},
        "tuple": [1, 2],
        "none": None,
        "float": 0.5,
        "big": 2**70,
        "unicode": 'żółw "quoted"\n',
    }
    assert client.get("/list").json() == [1, "two", None]
    assert client.get("/string").json() == "just text"
    assert client.get("/none").content == b"null"


def test_streaming_and_files(client: httpx.Client) -> None:
    assert client.get("/stream").text == "chunk0;chunk1;chunk2;"
    assert client.get("/stream-sync").content == b"ab"
    r = client.get("/file")
    assert r.text == "file contents\n" * 100
    assert r.headers["content-length"] == str(len("file contents\n" * 100))
    assert r.headers["content-disposition"] == 'attachment; filename="data.txt"'
    assert "etag" in r.headers
    missing = client.get("/file-missing")
    assert missing.status_code == 500
    assert missing.text == "Internal Server Error"


def test_redirects(client: httpx.Client) -> None:
    r = client.get("/redirect", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/"
    r = client.get("/users/1/?q=z", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"].endswith("/users/1?q=z")


def test_cookies_and_headers_on_responses(client: httpx.Client) -> None:
    r = client.get("/cookie")
    assert r.headers["x-custom"] == "yes"
    assert r.headers["set-cookie"] == "session=abc; HttpOnly; Path=/; SameSite=lax"


def test_not_found_and_method_not_allowed(client: httpx.Client) -> None:
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}
    r = client.post("/")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}
    assert r.headers["allow"] == "GET, HEAD"


def test_head_for_get_routes(client: httpx.Client) -> None:
    r = client.head("/")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "17"


def test_errors(client: httpx.Client) -> None:
    r = client.get("/missing")
    assert r.status_code == 404
    assert r.json() == {"detail": "Item not found"}
    assert r.headers["x-error"] == "1"
    assert client.get("/teapot").json() == {"detail": "short and stout"}
    r = client.get("/boom")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    assert "secret" not in r.text
    assert client.get("/bad-header").status_code == 500
    assert client.get("/").status_code == 200  # still serving


def test_sync_handlers_run_in_the_thread_pool(client: httpx.Client) -> None:
    assert client.get("/sync").json() == {"thread": True}


def test_lifespan_state(client: httpx.Client) -> None:
    assert client.get("/state").json() == {"greeting": "hi from lifespan"}


def test_background_tasks_run_after_the_response(client: httpx.Client) -> None:
    assert client.get("/background").json() == {"queued": True}
    # The task runs after the response was sent: under an ASGI server the next request may
    # get there first, so look a few times.
    for _ in range(50):
        if "done" in client.get("/background-log").json()["log"]:
            break
        time.sleep(0.02)
    assert "done" in client.get("/background-log").json()["log"]


def test_url_for_and_multi_methods(client: httpx.Client) -> None:
    assert client.get("/url-for").json() == {"path": "/users/42"}
    assert client.get("/multi").json() == {"method": "GET"}
    assert client.post("/multi").json() == {"method": "POST"}


def test_large_json(client: httpx.Client) -> None:
    assert len(client.get("/big").json()["data"]) == 200_000


def test_large_bytes_body_then_keep_alive(client: httpx.Client) -> None:
    r = client.get("/big-bytes")
    assert r.content == bytes(range(256)) * 400
    assert r.headers["content-length"] == str(256 * 400)
    assert client.get("/").json() == {"hello": "world"}


def test_large_upload_streams_to_the_handler(client: httpx.Client) -> None:
    payload = bytes(range(256)) * 12_000  # ~3 MiB: over the streaming threshold
    info = client.post("/upload-count", content=payload).json()
    assert info["size"] == len(payload)
    if not isinstance(client, TestClient):  # over a socket it arrives in pieces
        assert info["chunks"] > 2


def test_text_response_class_writes_a_returned_str_as_it_is() -> None:
    """`response_class=PlainTextResponse`/`HTMLResponse` with a `str` result: the engine writes
    the text itself; anything else still goes through the response class."""
    from covet import Covet
    from covet.responses import HTMLResponse, PlainTextResponse
    from covet.testclient import TestClient

    app = Covet()

    @app.get("/text", response_class=PlainTextResponse, status_code=201)
    async def text() -> str:
        return "héllo"

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return "<b>hi</b>"

    @app.get("/number", response_class=PlainTextResponse)
    async def number() -> int:
        return 42

    client = TestClient(app)
    response = client.get("/text")
    assert (response.status_code, response.text) == (201, "héllo")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == str(len("héllo".encode()))
    response = client.get("/html")
    assert (response.text, response.headers["content-type"]) == ("<b>hi</b>", "text/html; charset=utf-8")
    assert client.get("/number").text == "42"
    assert client.head("/text").content == b""
