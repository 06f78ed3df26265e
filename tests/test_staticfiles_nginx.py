"""StaticFiles answers compared header by header with nginx's for the same files: Debian's
nginx is started on its own loopback port over the directory tests/apps/static_app.py serves,
and each request goes to it and to covet (its server, uvicorn, TestClient)."""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import httpx
import pytest

from tests.apps.static_app import PUBLIC
from tests.conftest import free_port, served_three_ways, wait_for_port

client = served_three_ways("tests.apps.static_app:app")

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = """
daemon off; master_process off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /public/ {{ alias {root}/; }}
    }}
}}
"""


@pytest.fixture(scope="module")
def nginx() -> Iterator[httpx.Client]:
    if not os.path.exists(NGINX):
        pytest.fail("nginx is missing: scripts/services.sh installs Debian's package")
    tmp = tempfile.mkdtemp(prefix="covet-nginx-")
    port = free_port()
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(CONF.format(tmp=tmp, port=port, root=PUBLIC))
    proc = subprocess.Popen(
        [NGINX, "-p", tmp, "-c", os.path.join(tmp, "nginx.conf"), "-e", os.path.join(tmp, "error.log")]
    )
    try:
        wait_for_port(port, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            yield c
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def etag_of(c: httpx.Client, path: str) -> str:
    return c.get(path).headers["etag"]


# (name, path, headers); "{etag}" and "{date}" are filled with the file's own validators.
CASES = [
    ("get", "/public/app.js", {}),
    ("head", "/public/big.bin", {}),
    ("etag-304", "/public/app.js", {"if-none-match": "{etag}"}),
    ("etag-list-304", "/public/app.js", {"if-none-match": '"nope", {etag}'}),
    ("etag-other-200", "/public/app.js", {"if-none-match": '"nope"'}),
    ("date-304", "/public/app.js", {"if-modified-since": "{date}"}),
    ("old-date-200", "/public/app.js", {"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}),
    ("range", "/public/big.bin", {"range": "bytes=10-19"}),
    ("suffix-range", "/public/big.bin", {"range": "bytes=-100"}),
    ("open-range", "/public/big.bin", {"range": "bytes=199000-"}),
    ("range-past-end", "/public/big.bin", {"range": "bytes=199990-300000"}),
    ("multi-range", "/public/big.bin", {"range": "bytes=0-9,1000-1099,-5"}),
    ("unsatisfiable", "/public/big.bin", {"range": "bytes=300000-"}),
    ("bad-range", "/public/big.bin", {"range": "bytes=9-1"}),
    ("if-range-etag", "/public/big.bin", {"range": "bytes=0-99", "if-range": "{etag}"}),
    ("if-range-date", "/public/big.bin", {"range": "bytes=0-99", "if-range": "{date}"}),
    ("if-range-stale", "/public/big.bin", {"range": "bytes=0-99", "if-range": '"stale"'}),
    ("if-match-fails", "/public/app.js", {"if-match": '"nope"'}),
    ("if-match-holds", "/public/app.js", {"if-match": "{etag}"}),
    ("if-unmodified-fails", "/public/app.js", {"if-unmodified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}),
    ("missing", "/public/nothing-here.txt", {}),
]

# RFC 9239 made text/javascript the JavaScript type; Debian's nginx 1.22 still says the old one.
ALIASES = {"application/javascript": "text/javascript"}

# Compared exactly whenever either side sends them (validators, lengths, ranges).
EXACT = ("etag", "last-modified", "content-range", "accept-ranges")


def parts(response: httpx.Response) -> list[tuple[str, bytes]]:
    """The (content-range, bytes) of each part of a multipart/byteranges body."""
    head = b"content-type: " + response.headers["content-type"].encode() + b"\r\n\r\n"
    message = email.parser.BytesParser().parsebytes(head + response.content)
    return [(p["content-range"], p.get_payload(decode=True)) for p in message.get_payload()]


@pytest.mark.parametrize(("name", "path", "headers"), CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_nginx(
    client: httpx.Client, nginx: httpx.Client, name: str, path: str, headers: dict[str, str]
) -> None:
    first = nginx.get(path)
    filled = {
        k: v.replace("{etag}", first.headers.get("etag", "")).replace("{date}", first.headers.get("last-modified", ""))
        for k, v in headers.items()
    }
    method = "HEAD" if name == "head" else "GET"
    theirs = nginx.request(method, path, headers=filled)
    ours = client.request(method, path, headers=filled)
    assert_same(ours, theirs)


def assert_same(ours: httpx.Response, theirs: httpx.Response) -> None:
    """Same status, validators, ranges, type, length and bytes (error pages aside)."""
    assert ours.status_code == theirs.status_code
    for header in EXACT:
        if ours.status_code in (404, 412, 416) and header != "content-range":
            continue  # nginx's error pages are its own
        assert ours.headers.get(header) == theirs.headers.get(header), header
    if ours.status_code in (200, 206):
        media = ours.headers["content-type"].split(";")[0]
        their_media = theirs.headers["content-type"].split(";")[0]
        assert media == ALIASES.get(their_media, their_media)
        if media == "multipart/byteranges":  # boundaries differ, so lengths do too: compare parts
            assert parts(ours) == parts(theirs)
        else:
            assert ours.headers["content-length"] == theirs.headers["content-length"]
            assert ours.content == theirs.content
    if ours.status_code == 304:
        assert ours.content == theirs.content == b""


FILE_CASES = [case for case in CASES if case[0] != "missing"]


@pytest.mark.parametrize(("name", "path", "headers"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_response_same_answer_as_nginx(
    client: httpx.Client, nginx: httpx.Client, name: str, path: str, headers: dict[str, str]
) -> None:
    """A `FileResponse` of a file answers as nginx does for it (and as StaticFiles does)."""
    first = nginx.get(path)
    filled = {
        k: v.replace("{etag}", first.headers.get("etag", "")).replace("{date}", first.headers.get("last-modified", ""))
        for k, v in headers.items()
    }
    method = "HEAD" if name == "head" else "GET"
    theirs = nginx.request(method, path, headers=filled)
    ours = client.request(method, path.replace("/public/", "/file/"), headers=filled)
    assert_same(ours, theirs)
