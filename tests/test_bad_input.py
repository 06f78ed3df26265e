"""Input an unauthenticated client controls gets a 4xx with a JSON body, never a 500: through
covet's server on the engine path (`app`) and the Python path (`python_app`, which has an
`@app.middleware("http")`), and through TestClient. Each bad request leaves exactly one line in
the server's log that says what happened (its access line, or the one line naming the
refusal), and no traceback."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable

import httpx
import pytest

from covet import Covet, Request
from covet.testclient import TestClient
from tests.apps.bad_input import app as engine_app
from tests.conftest import Server

APPS = ["app", "python_app"]

# Lines every server run writes, whatever it serves.
_LIFECYCLE = ("serving on http", "Shutting down", "stopped")


def request_lines(log: str) -> list[str]:
    """The server log without its start-up and shut-down lines: what requests left behind."""
    return [line for line in log.splitlines() if line.strip() and not any(m in line for m in _LIFECYCLE)]


def stop_and_read(server: Server) -> list[str]:
    code, log = server.stop()
    assert code == 0, log
    assert "Traceback" not in log, log
    return request_lines(log)


def send_raw(server: Server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """One request written byte for byte (httpx would refuse to send most of these)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock, sock.makefile("rb") as f:
        sock.sendall(data)
        status = f.readline()
        headers: dict[str, str] = {}
        while (line := f.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode("latin-1")
        body = f.read(int(headers.get("content-length", 0)))
    return int(status.split()[1]), headers, body


def post(path: str, content_type: str, body: bytes) -> bytes:
    """A raw POST with its Content-Length counted."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


@pytest.fixture(params=APPS)
def server(request: pytest.FixtureRequest, serve: Callable[..., Server]) -> Server:
    """The app on covet's server, once per path (engine, Python); access log on."""
    return serve(f"tests.apps.bad_input:{request.param}")


def test_deeply_nested_json_to_a_model_is_422(server: Server) -> None:
    r = httpx.post(server.url + "/items", content=b"[" * 1000, headers={"content-type": "application/json"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert (error["type"], error["loc"], error["msg"]) == ("json_invalid", ["body", 0], "JSON decode error")
    assert "recursion limit" in error["ctx"]["error"]
    assert httpx.post(server.url + "/items", json={"name": "still serving"}).json() == {"name": "still serving"}
    lines = stop_and_read(server)
    assert len(lines) == 2 and '"POST /items HTTP/1.1" 422' in lines[0], lines


def test_an_infinite_number_in_a_body_is_422(server: Server) -> None:
    """`1e999` parses as inf, which the 422 body cannot hold as a number: it is echoed as pydantic
    writes it, "Infinity", rather than failing the error response itself."""
    r = httpx.post(server.url + "/items", content=b'{"name": -1e999}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert (error["type"], error["loc"], error["input"]) == ("string_type", ["body", "name"], "-Infinity")
    r = httpx.post(server.url + "/items", content=b"1e999", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["input"] == "Infinity"
    lines = stop_and_read(server)
    assert len(lines) == 2 and all('"POST /items HTTP/1.1" 422' in line for line in lines), lines


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{x}", "Invalid JSON body: Expecting property name enclosed in double quotes at position 1"),
        (b"[" * 100_000, "Invalid JSON body: nested too deeply"),
        (b'"\xff\xfe"', "Invalid JSON body: not valid UTF-8 at byte 1"),
        (b"", "Invalid JSON body: Expecting value at position 0"),
        (
            b'{"k": ["ok", "\\ud800"]}',
            "Invalid JSON body: a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)",
        ),
    ],
    ids=["syntax", "depth", "utf-8", "empty", "lone-surrogate"],
)
def test_request_json_on_a_bad_body_is_400(server: Server, body: bytes, detail: str) -> None:
    r = httpx.post(server.url + "/raw-json", content=body)
    assert (r.status_code, r.json()) == (400, {"detail": detail})
    lines = stop_and_read(server)
    assert len(lines) == 1 and '"POST /raw-json HTTP/1.1" 400' in lines[0], lines


def test_request_json_keeps_a_surrogate_pair(server: Server) -> None:
    r = httpx.post(server.url + "/raw-json", content=b'{"smile": "\\ud83d\\ude00", "\\u00e9": 1}')
    assert (r.status_code, r.json()) == (200, {"got": {"smile": "\U0001f600", "\u00e9": 1}})


def test_http_exceptions_of_other_frameworks_keep_their_status(server: Server) -> None:
    missing = httpx.get(server.url + "/static/no-such-file.txt")  # Starlette's StaticFiles raises 404
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    taken = httpx.get(server.url + "/starlette-error")
    assert (taken.status_code, taken.json()) == (409, {"detail": "Name taken"})
    assert taken.headers["x-why"] == "duplicate"
    quota = httpx.get(server.url + "/carrier-error")  # any exception with an int status_code
    assert (quota.status_code, quota.json()) == (429, {"detail": "Too Many Requests"})
    lines = stop_and_read(server)
    assert [line.rsplit(" ", 1)[-1] for line in lines] == ["404", "409", "429"], lines
    assert all("covet.access" in line for line in lines), lines


def test_a_bad_token_kid_gets_401_and_a_fixed_challenge(server: Server) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "\u4e2d\u6587\r\nx"}).encode())
    token = f"{header}.{b64(b'{}')}.{b64(b'sig')}"
    r = httpx.get(server.url + "/me", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert (
        r.headers["www-authenticate"] == 'Bearer error="invalid_token", error_description="The access token is invalid"'
    )
    assert r.json()["detail"].startswith("Invalid token: unknown key id")
    lines = stop_and_read(server)
    # The reason, once, on covet.jwt; then the access line.
    assert len(lines) == 2 and "covet.jwt: refused bearer token on GET /me" in lines[0], lines
    assert '"GET /me HTTP/1.1" 401' in lines[1], lines


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\x00b", "a\nb"], ids=["crlf", "nul", "lf"])
@pytest.mark.parametrize("path", ["/header", "/header-stream"])
def test_an_unsendable_response_header_is_500_and_logged_once(server: Server, path: str, value: str) -> None:
    r = httpx.get(server.url + path, params={"value": value})
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    assert "x-injected" not in r.headers
    assert httpx.get(server.url + path, params={"value": "fine"}).headers["x-echo"] == "fine"
    lines = stop_and_read(server)
    errors = [line for line in lines if line.startswith("ERROR")]
    assert len(errors) == 1, lines
    assert f'Response to GET {path} not sent: invalid response header "x-echo"' in errors[0]
    assert [line.rsplit(" ", 1)[-1] for line in lines if "covet.access" in line] == ["500", "200"]
    assert len(lines) == 3, lines


ODD_REQUESTS = {
    "query: bad percent-escapes and UTF-8": b"GET /echo/a?q=%ff%fe&x=%zz&%=% HTTP/1.1\r\nHost: x\r\n\r\n",
    "path: bad UTF-8": b"GET /echo/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
    "path: bad percent-escape": b"GET /echo/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    "cookies: odd bytes and syntax": b"GET /echo/a HTTP/1.1\r\nHost: x\r\n"
    b'Cookie: =;;;=a; "x"="\\"; a=\xff\xfe; b=%ff\r\n\r\n',
    "form: bad percent-escapes": post("/form", "application/x-www-form-urlencoded", b"a=%ff&b=%zz&c=\xff\xfe"),
    "multipart: no boundary": post("/form", "multipart/form-data", b"abc"),
    "header: control byte": b"GET /echo/a HTTP/1.1\r\nHost: x\r\nX-Odd: \xff\x01\r\n\r\n",
    "huge ints in path and query": b"GET /int/" + b"9" * 5000 + b"?q=" + b"9" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "huge int header and cookie": b"GET /typed?f=1e99999 HTTP/1.1\r\nHost: x\r\nX-N: "
    + b"9" * 5000
    + b"\r\nCookie: c="
    + b"9" * 5000
    + b"\r\n\r\n",
    "model body: bad UTF-8": post("/items", "application/json", b'{"name":"\xff\xfe"}'),
    "model body: huge int": post("/items", "application/json", b'{"name":"a","tags":[' + b"9" * 5000 + b"]}"),
    "host: broken IPv6": b"GET /url HTTP/1.1\r\nHost: [::1\r\n\r\n",
    "host: bad port": b"GET /url HTTP/1.1\r\nHost: a:99999999\r\n\r\n",
    "static: traversal": b"GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    "static: NUL": b"GET /static/a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
    "static: bad range": b"GET /static/bad_input.py HTTP/1.1\r\nHost: x\r\nRange: bytes=x\r\n\r\n",
}


def test_odd_input_never_gets_a_500(server: Server) -> None:
    """Probes of our own: none answers 5xx, none leaves a traceback or an ERROR line, and
    the server answers a plain request afterwards."""
    statuses = {name: send_raw(server, data)[0] for name, data in ODD_REQUESTS.items()}
    assert all(status < 500 for status in statuses.values()), statuses
    assert httpx.get(server.url + "/echo/ok").json()["word"] == "ok"
    lines = stop_and_read(server)
    assert not [line for line in lines if line.startswith("ERROR")], lines
    assert len(lines) == len(ODD_REQUESTS) + 1, lines


def test_lenient_decoding_matches_starlette(server: Server) -> None:
    """Bad percent-escapes and bad UTF-8 in a query string, a form body or a cookie are not
    refused: decoded as Starlette decodes them (U+FFFD, or the escape kept as sent)."""
    _, _, body = send_raw(server, ODD_REQUESTS["query: bad percent-escapes and UTF-8"])
    assert json.loads(body)["query"] == {"q": "\ufffd\ufffd", "x": "%zz", "%": "%"}
    _, _, body = send_raw(server, ODD_REQUESTS["form: bad percent-escapes"])
    assert json.loads(body) == {"a": "\ufffd", "b": "%zz", "c": "\ufffd\ufffd"}


def test_testclient_gets_the_same_answers() -> None:
    with TestClient(engine_app, raise_server_exceptions=False) as tc:
        r = tc.post("/raw-json", content=b"{x}")
        assert (r.status_code, r.json()["detail"]) == (
            400,
            "Invalid JSON body: Expecting property name enclosed in double quotes at position 1",
        )
        assert tc.post("/items", content=b"[" * 1000).status_code == 422
        assert tc.get("/static/no-such-file.txt").json() == {"detail": "Not Found"}
        assert tc.get("/starlette-error").status_code == 409
        assert tc.get("/header", params={"value": "a\r\nb"}).status_code == 500


def test_request_json_errors_are_still_json_decode_errors() -> None:
    """Code written for Starlette that catches `json.JSONDecodeError` keeps working."""
    app = Covet()

    @app.post("/")
    async def tolerant(request: Request) -> dict[str, object]:
        try:
            return {"got": await request.json()}
        except json.JSONDecodeError as exc:
            return {"fallback": exc.pos}

    with TestClient(app) as tc:
        assert tc.post("/", content=b"[1, x]").json() == {"fallback": 4}
