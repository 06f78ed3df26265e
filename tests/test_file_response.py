"""FileResponse answered by the engine's static path (validators, If-*, Range, HEAD) with the
application's own headers, through TestClient, covet's server and uvicorn. Its answers for
plain files are compared with nginx's in tests/test_staticfiles_nginx.py."""

from __future__ import annotations

import email.parser
import hashlib
import os
import socket

import httpx

from tests.apps.static_app import BIG, PUBLIC
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.static_app:app", raise_server_exceptions=False)

# 24 MiB: more than loopback's largest socket buffers, so no single sendfile takes it all.
HUGE = bytes(range(256)) * (24 * 4096)
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


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[int, dict[bytes, bytes], bytes]:
    """One response with a Content-Length off `sock` (bytes beyond it stay in `buf`)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(1 << 16)
        assert chunk, "connection closed mid-head"
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = dict(line.lower().split(b": ", 1) for line in lines[1:])
    length = int(headers[b"content-length"])
    buf[:] = rest
    while len(buf) < length:
        chunk = sock.recv(1 << 20)
        assert chunk, "connection closed mid-body"
        buf += chunk
    body = bytes(buf[:length])
    del buf[:length]
    return int(lines[0].split(b" ")[1]), headers, body


def test_files_larger_than_the_socket_takes_keep_their_order(client: httpx.Client) -> None:
    """A file far larger than any socket buffer (so `sendfile` stops part way and the rest goes
    through the transport), pipelined with a range of it and a small file, to a client reading
    slowly: every byte arrives, in order."""
    huge = os.path.join(PUBLIC, "huge.bin")
    if not os.path.exists(huge):
        with open(huge, "wb") as f:
            f.write(HUGE)
    if not isinstance(client.base_url.port, int) or hasattr(client, "app"):  # TestClient: no socket
        assert client.get("/file/huge.bin").content == HUGE
        return
    with socket.create_connection((client.base_url.host, client.base_url.port), timeout=30) as sock:
        requests = [
            b"GET /file/huge.bin HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /public/huge.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=1000-5999999\r\n\r\n",
            b"GET /public/app.js HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ]
        sock.sendall(b"".join(requests))
        buf = bytearray()
        whole, ranged, small = (_read_response(sock, buf) for _ in requests)
    assert (whole[0], hashlib.sha256(whole[2]).digest()) == (200, hashlib.sha256(HUGE).digest())
    assert (ranged[0], ranged[1][b"content-range"]) == (206, f"bytes 1000-5999999/{len(HUGE)}".encode())
    assert ranged[2] == HUGE[1000:6_000_000]
    assert small == (200, small[1], b"console.log(1)\n")
