"""StaticFiles' HTTP semantics, the same on covet's server (answered by the engine), uvicorn
and TestClient: ranges (206, multipart/byteranges, 416, If-Range), preconditions (304, 412),
HEAD, content types, precompressed siblings with Vary, Cache-Control patterns, large files."""

from __future__ import annotations

import email.parser
import gzip

import httpx
import pytest

from tests.apps.static_app import BIG, CSS
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.static_app:app")


def test_single_ranges(client: httpx.Client) -> None:
    spans = {"bytes=10-19": (10, 20), "bytes=-5": (199_995, 200_000), "bytes=199990-": (199_990, 200_000)}
    for asked, (start, end) in spans.items():
        r = client.get("/public/big.bin", headers={"range": asked})
        assert r.status_code == 206, asked
        assert r.content == BIG[start:end]
        assert r.headers["content-range"] == f"bytes {start}-{end - 1}/200000"
        assert r.headers["content-length"] == str(end - start)


def test_multiple_ranges_are_multipart(client: httpx.Client) -> None:
    r = client.get("/public/big.bin", headers={"range": "bytes=0-9, 100000-100009, -3"})
    assert r.status_code == 206
    kind = r.headers["content-type"]
    assert kind.startswith("multipart/byteranges; boundary=")
    message = email.parser.BytesParser().parsebytes(b"content-type: " + kind.encode() + b"\r\n\r\n" + r.content)
    parts = [(p["content-range"], p.get_payload(decode=True)) for p in message.get_payload()]
    assert parts == [
        ("bytes 0-9/200000", BIG[:10]),
        ("bytes 100000-100009/200000", BIG[100_000:100_010]),
        ("bytes 199997-199999/200000", BIG[-3:]),
    ]
    assert int(r.headers["content-length"]) == len(r.content)


def test_unsatisfiable_and_ignored_ranges(client: httpx.Client) -> None:
    r = client.get("/public/app.js", headers={"range": "bytes=1000-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */15"
    assert client.get("/public/app.js", headers={"range": "bytes=5-1"}).status_code == 416  # as nginx
    for ignored in ("lines=1-2", "bytes=0-14,0-14"):
        r = client.get("/public/app.js", headers={"range": ignored})
        assert (r.status_code, r.content) == (200, b"console.log(1)\n"), ignored


def test_if_range(client: httpx.Client) -> None:
    first = client.get("/public/big.bin")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/public/big.bin", headers={"range": "bytes=0-0", "if-range": etag}).status_code == 206
    assert client.get("/public/big.bin", headers={"range": "bytes=0-0", "if-range": modified}).status_code == 206
    stale = client.get("/public/big.bin", headers={"range": "bytes=0-0", "if-range": '"old"'})
    assert (stale.status_code, len(stale.content)) == (200, 200_000)


def test_preconditions(client: httpx.Client) -> None:
    first = client.get("/public/app.js")
    etag = first.headers["etag"]
    assert first.headers["accept-ranges"] == "bytes"
    not_modified = client.get("/public/app.js", headers={"if-none-match": f'"x", W/{etag}'})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == etag
    assert "content-length" not in not_modified.headers
    assert client.get("/public/app.js", headers={"if-match": '"other"'}).status_code == 412
    assert client.get("/public/app.js", headers={"if-match": etag}).status_code == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/public/app.js", headers={"if-unmodified-since": old}).status_code == 412
    assert client.get("/public/app.js", headers={"if-modified-since": old}).status_code == 200
    assert client.get("/public/app.js", headers={"if-modified-since": "garbage"}).status_code == 200


def test_head_of_a_large_file(client: httpx.Client) -> None:
    r = client.head("/public/big.bin")
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "200000")


def test_large_file_whole(client: httpx.Client) -> None:
    r = client.get("/public/big.bin")
    assert r.content == BIG
    assert r.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("font.woff2", "font/woff2"),
        ("data.unknownext", "application/octet-stream"),
    ],
)
def test_content_types(client: httpx.Client, name: str, expected: str) -> None:
    assert client.get(f"/public/{name}").headers["content-type"] == expected


def raw(client: httpx.Client, path: str, accept: str) -> tuple[httpx.Headers, bytes]:
    """Headers and the body as sent (no decoding of Content-Encoding)."""
    with client.stream("GET", path, headers={"accept-encoding": accept}) as r:
        return r.headers, b"".join(r.iter_raw())


def test_precompressed_siblings(client: httpx.Client) -> None:
    headers, body = raw(client, "/public/app.css", "gzip, deflate, br")
    assert (headers["content-encoding"], body) == ("br", b"BROTLI-BYTES")
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == "text/css; charset=utf-8"
    headers, body = raw(client, "/public/app.css", "gzip;q=1, br;q=0")
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == CSS
    headers, body = raw(client, "/public/app.css", "identity")
    assert "content-encoding" not in headers and body == CSS
    headers, body = raw(client, "/follow/app.css", "br")  # precompressed=False
    assert "content-encoding" not in headers and body == CSS


def test_cache_control_patterns(client: httpx.Client) -> None:
    assert client.get("/public/app.css").headers["cache-control"] == "public, max-age=60"
    assert "cache-control" not in client.get("/public/app.js").headers


def test_precompressed_validators_are_the_siblings(client: httpx.Client) -> None:
    """Each encoding has its own ETag (a cache never answers one with the other's), and a 304
    repeats Vary and Cache-Control."""
    br = client.get("/public/app.css", headers={"accept-encoding": "br"})
    plain = client.get("/public/app.css", headers={"accept-encoding": "identity"})
    assert br.headers["etag"] != plain.headers["etag"]
    again = client.get("/public/app.css", headers={"accept-encoding": "br", "if-none-match": br.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["vary"] == "Accept-Encoding"
    assert again.headers["cache-control"] == "public, max-age=60"
    # The identity ETag does not validate the br representation.
    other = client.get("/public/app.css", headers={"accept-encoding": "br", "if-none-match": plain.headers["etag"]})
    assert other.status_code == 200 and other.headers["content-encoding"] == "br"


def test_html_mode_pages_answer_conditionals_and_head(client: httpx.Client) -> None:
    index = client.get("/site/")
    assert client.get("/site/", headers={"if-none-match": index.headers["etag"]}).status_code == 304
    head = client.head("/site/nowhere")
    assert head.status_code == 404 and head.content == b""
    assert head.headers["content-length"] == str(len(b"<h1>lost</h1>"))
    # The 404 page ignores Range and conditionals: it is never a 206 or 304.
    lost = client.get("/site/nowhere", headers={"range": "bytes=0-1", "if-none-match": "*"})
    assert (lost.status_code, lost.text) == (404, "<h1>lost</h1>")
    assert client.get("/site/.hidden").status_code == 404
