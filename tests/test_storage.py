"""covet.storage against real S3-API (moto_server) and GCS-API (gcp-storage-emulator) servers
and a local directory, through covet endpoints served by TestClient, covet's server and uvicorn."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import start_server

BACKENDS = ["s3", "gcs", "local"]
WAYS = ["testclient", "covet", "uvicorn"]
BODY = bytes(range(256)) * 1000  # 256,000 bytes, every byte value


@pytest.fixture(scope="module", params=list(itertools.product(BACKENDS, WAYS)), ids=lambda p: f"{p[0]}-{p[1]}")
def client(request: pytest.FixtureRequest, storage_servers: dict[str, str]) -> Iterator[httpx.Client]:
    backend, way = request.param
    spec = f"tests.apps.storage_app:{backend}_app"
    if way == "testclient":
        from covet.cli import load_app
        from covet.testclient import TestClient

        with TestClient(load_app(spec)) as tc:
            yield tc
        return
    server = start_server(spec, *(["--no-access-log"] if way == "covet" else []), kind=way)
    try:
        with server.client() as c:
            yield c
    finally:
        server.stop()


@pytest.fixture
def stored(client: httpx.Client) -> Iterator[str]:
    """A fresh object holding BODY; deleted afterwards."""
    key = f"t/{uuid.uuid4().hex}/data.bin"
    answer = client.post(f"/upload/{key}", files={"file": ("data.bin", BODY, "application/octet-stream")})
    assert answer.status_code == 200, answer.text
    assert answer.json()["size"] == len(BODY)
    yield key
    client.delete(f"/files/{key}")


@pytest.mark.parametrize("prefix", ["/files/", "/media/"])
def test_get_whole_object_with_validators(client: httpx.Client, stored: str, prefix: str) -> None:
    answer = client.get(prefix + stored)
    assert answer.status_code == 200
    assert answer.content == BODY
    assert answer.headers["content-length"] == str(len(BODY))
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["etag"].startswith('"')
    assert answer.headers["accept-ranges"] == "bytes"
    assert "last-modified" in answer.headers
    if prefix == "/media/":
        assert answer.headers["cache-control"] == "public, max-age=60"


@pytest.mark.parametrize("prefix", ["/files/", "/media/"])
def test_ranges(client: httpx.Client, stored: str, prefix: str) -> None:
    url = prefix + stored
    part = client.get(url, headers={"range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == BODY[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(BODY)}"
    suffix = client.get(url, headers={"range": "bytes=-10"})
    assert (suffix.status_code, suffix.content) == (206, BODY[-10:])
    open_end = client.get(url, headers={"range": f"bytes={len(BODY) - 5}-"})
    assert (open_end.status_code, open_end.content) == (206, BODY[-5:])
    assert client.get(url, headers={"range": "bytes=0-1,5-6"}).content == BODY  # several: whole
    assert client.get(url, headers={"range": "items=0-1"}).status_code == 200
    assert client.get(url, headers={"range": "bytes=x-1"}).status_code == 416
    beyond = client.get(url, headers={"range": f"bytes={len(BODY)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(BODY)}"


@pytest.mark.parametrize("prefix", ["/files/", "/media/"])
def test_if_range(client: httpx.Client, stored: str, prefix: str) -> None:
    url = prefix + stored
    whole = client.get(url)
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]
    for current in (etag, modified):
        same = client.get(url, headers={"range": "bytes=0-9", "if-range": current})
        assert (same.status_code, same.content) == (206, BODY[:10])
    stale = client.get(url, headers={"range": "bytes=0-9", "if-range": '"not-the-etag"'})
    assert (stale.status_code, stale.content) == (200, BODY)


@pytest.mark.parametrize("prefix", ["/files/", "/media/"])
def test_not_modified(client: httpx.Client, stored: str, prefix: str) -> None:
    url = prefix + stored
    whole = client.get(url)
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]
    by_tag = client.get(url, headers={"if-none-match": f'"other", {etag}'})
    assert by_tag.status_code == 304
    assert by_tag.content == b""
    assert by_tag.headers["etag"] == etag
    assert client.get(url, headers={"if-modified-since": modified}).status_code == 304
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(url, headers={"if-modified-since": old}).status_code == 200


@pytest.mark.parametrize("prefix", ["/files/", "/media/"])
def test_preconditions(client: httpx.Client, stored: str, prefix: str) -> None:
    url = prefix + stored
    whole = client.get(url)
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]
    assert client.get(url, headers={"if-match": etag}).status_code == 200
    assert client.get(url, headers={"if-match": '"other"'}).status_code == 412
    assert client.get(url, headers={"if-unmodified-since": modified}).status_code == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(url, headers={"if-unmodified-since": old}).status_code == 412


def test_head(client: httpx.Client, stored: str) -> None:
    answer = client.head(f"/media/{stored}")
    assert answer.status_code == 200
    assert answer.headers["content-length"] == str(len(BODY))
    assert answer.content == b""


def test_list_and_delete(client: httpx.Client) -> None:
    folder = f"l/{uuid.uuid4().hex}"
    for name in ("b.txt", "a.txt", "sub/c.txt"):
        assert client.post(f"/upload/{folder}/{name}", files={"file": (name, name.encode(), "text/plain")}).is_success
    listed = client.get("/list", params={"prefix": f"{folder}/"}).json()
    assert listed == [
        {"key": f"{folder}/a.txt", "size": 5},
        {"key": f"{folder}/b.txt", "size": 5},
        {"key": f"{folder}/sub/c.txt", "size": 9},
    ]
    assert [i["key"] for i in client.get("/list", params={"prefix": f"{folder}/sub/"}).json()] == [
        f"{folder}/sub/c.txt"
    ]
    for item in listed:
        assert client.delete(f"/files/{item['key']}").json() == {"deleted": True}
    assert client.get("/list", params={"prefix": f"{folder}/"}).json() == []
    assert client.get(f"/files/{folder}/a.txt").status_code == 404
    assert client.get(f"/media/{folder}/a.txt").status_code == 404


def test_media_refuses_other_methods_and_escapes(client: httpx.Client, stored: str) -> None:
    assert client.post(f"/media/{stored}").status_code == 405
    assert client.get("/media/").status_code == 404
    assert client.get("/media/%2e%2e/secret").status_code == 404


def test_signed_url_of_the_app(client: httpx.Client, stored: str) -> None:
    url = client.get(f"/url/{stored}").json()["url"]
    if url.startswith("/media/"):  # LocalStorage: served by the app itself
        assert client.get(url).content == BODY
    else:  # presigned S3 / signed GCS URL: fetched from the storage server, no other credentials
        assert "X-Amz-Signature=" in url or "X-Goog-Signature=" in url
        assert httpx.get(url).content == BODY


def test_local_signed_urls_expire_and_resist_tampering(tmp_path: object) -> None:
    from urllib.parse import parse_qs, urlsplit

    from covet.storage import LocalStorage

    storage = LocalStorage(str(tmp_path), secret="s3cret")
    query = parse_qs(urlsplit(storage.url("a/b.txt", expires=60)).query)
    expires, signature = query["expires"][0], query["signature"][0]
    assert storage.check_url("a/b.txt", expires, signature)
    assert not storage.check_url("a/c.txt", expires, signature)
    assert not storage.check_url("a/b.txt", str(int(expires) + 1), signature)
    stale = urlsplit(storage.url("a/b.txt", expires=-1)).query
    assert not storage.check_url("a/b.txt", parse_qs(stale)["expires"][0], parse_qs(stale)["signature"][0])


def test_gcs_signed_url_verifies_with_the_service_account_key(storage_servers: dict[str, str]) -> None:
    from urllib.parse import parse_qs, urlsplit

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from covet.storage import GCSStorage

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = {"client_email": "app@project.iam.gserviceaccount.com", "private_key": pem.decode()}
    storage = GCSStorage("covet-test", service_account=account)
    url = urlsplit(storage.url("dir/a b.txt", expires=900))
    assert url.netloc == "storage.googleapis.com"
    assert url.path == "/covet-test/dir/a%20b.txt"
    query = parse_qs(url.query)
    assert query["X-Goog-Expires"] == ["900"]
    assert query["X-Goog-Credential"][0].startswith("app@project.iam.gserviceaccount.com/")
    signed_query = url.query.rsplit("&X-Goog-Signature=", 1)[0]
    canonical = "\n".join(["GET", url.path, signed_query, "host:storage.googleapis.com\n", "host", "UNSIGNED-PAYLOAD"])
    import hashlib

    scope = query["X-Goog-Credential"][0].split("/", 1)[1]
    to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", query["X-Goog-Date"][0], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signature = bytes.fromhex(query["X-Goog-Signature"][0])
    key.public_key().verify(signature, to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())  # raises if wrong


def test_bad_keys_are_400_or_404(client: httpx.Client) -> None:
    long_key = "k" * 1100
    refused = client.post(f"/upload/{long_key}", files={"file": ("a.txt", b"a", "text/plain")})
    assert (refused.status_code, refused.json()) == (400, {"detail": "Invalid storage key"})
    assert client.get(f"/files/{long_key}").status_code == 404
    assert client.get(f"/media/{long_key}").status_code == 404


@pytest.mark.parametrize("kind", ["s3", "gcs"])
def test_unreachable_service_is_502(kind: str) -> None:
    import asyncio
    import socket

    from covet.storage import GCSStorage, S3Storage, StorageError

    with socket.socket() as s:  # a port nobody listens on (bound, never listening)
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        storage = S3Storage("b-b-b", endpoint_url=url) if kind == "s3" else GCSStorage("b-b-b", endpoint_url=url)
        with pytest.raises(StorageError) as caught:
            asyncio.run(storage.stat("a.txt"))
    assert caught.value.status_code == 502
    assert caught.value.detail == "Storage service error"
    assert "ConnectError" in str(caught.value)
