"""FileResponse answered by the engine's static path (validators, If-*, Range, HEAD) with the
application's own headers, through TestClient, covet's server and uvicorn. Its answers for
plain files are compared with nginx's in tests/test_staticfiles_nginx.py."""

from __future__ import annotations

import email.parser

import httpx

from tests.apps.static_app import BIG
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.static_app:app", raise_server_exceptions=False)

DISPOSITION = "attachment; filename*=utf-8''donn%C3%A9es.bin"


def test_own_headers_and_media_type(client: httpx.Client) -> None:
    r = client.get("/download")
    assert r.status_code == 200 and r.content == BIG
    assert r.headers["content-type"] == "application/x-covet"
    assert r.headers["content-disposition"] == DISPOSITION
    assert (r.headers["cache-control"], r.headers["x-own"]) == ("no-store", "1")
    assert r.headers["content-length"] == str(len(BIG))
    assert r.headers["accept-ranges"] == "bytes" and r.headers["etag"].startswith('"')


def test_same_validators_as_static_files(client: httpx.Client) -> None:
    mine, static = client.get("/file/big.bin"), client.get("/public/big.bin")
    assert mine.headers["etag"] == static.headers["etag"]
    assert mine.headers["last-modified"] == static.headers["last-modified"]


def test_ranges_keep_own_headers(client: httpx.Client) -> None:
    r = client.get("/download", headers={"range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == BIG[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(BIG)}"
    assert r.headers["content-disposition"] == DISPOSITION and r.headers["content-type"] == "application/x-covet"
    multi = client.get("/download", headers={"range": "bytes=0-9,-10"})
    assert multi.headers["content-type"].startswith("multipart/byteranges; boundary=")
    head = b"content-type: " + multi.headers["content-type"].encode() + b"\r\n\r\n"
    parts = email.parser.BytesParser().parsebytes(head + multi.content).get_payload()
    assert [(p["content-type"], p.get_payload(decode=True)) for p in parts] == [
        ("application/x-covet", BIG[:10]),
        ("application/x-covet", BIG[-10:]),
    ]
    bad = client.get("/download", headers={"range": "bytes=999999-"})
    assert (bad.status_code, bad.headers["content-range"]) == (416, f"bytes */{len(BIG)}")


def test_not_modified_repeats_only_what_a_304_may_carry(client: httpx.Client) -> None:
    first = client.get("/download")
    again = client.get("/download", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "no-store"
    assert "content-disposition" not in again.headers and "x-own" not in again.headers
    stale = client.get("/download", headers={"range": "bytes=0-9", "if-range": '"old"'})
    assert stale.status_code == 200 and stale.content == BIG


def test_head_has_the_length_and_no_body(client: httpx.Client) -> None:
    r = client.head("/download")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(BIG))
    assert r.headers["content-disposition"] == DISPOSITION


def test_missing_file_is_a_500(client: httpx.Client) -> None:
    assert client.get("/file-missing").status_code == 500
