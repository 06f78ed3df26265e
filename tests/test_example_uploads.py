"""examples/uploads against a real S3-API server (moto_server), a GCS-API emulator and a local
directory, on covet's server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server

PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


def service_account_file(folder: Path) -> Path:
    """A service account key file of the test's own (a fresh RSA key), to sign GCS links."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = folder / "account.json"
    path.write_text(
        json.dumps({"client_email": "uploads@example.iam.gserviceaccount.com", "private_key": pem.decode()})
    )
    return path


@pytest.fixture(params=["s3", "gcs", "local"])
def uploads(
    request: pytest.FixtureRequest, storage_servers: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[httpx.Client]:
    if request.param == "s3":
        monkeypatch.setenv("S3_BUCKET", storage_servers["STORAGE_BUCKET"])
        monkeypatch.setenv("S3_ENDPOINT_URL", storage_servers["STORAGE_S3_URL"])
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    elif request.param == "gcs":
        monkeypatch.setenv("GCS_BUCKET", storage_servers["STORAGE_BUCKET"])
        monkeypatch.setenv("GCS_ENDPOINT_URL", storage_servers["STORAGE_GCS_URL"])
        monkeypatch.setenv("GCS_SERVICE_ACCOUNT", str(service_account_file(tmp_path)))
    else:
        monkeypatch.setenv("UPLOADS_DIR", str(tmp_path))
    server = start_server("examples.uploads.app:app", "--no-access-log")
    try:
        with server.client() as client:
            yield client
    finally:
        server.stop()


def test_upload_serve_link_delete(uploads: httpx.Client) -> None:
    stored = uploads.post("/files", files={"file": ("../cat.png", PICTURE, "image/png")})
    assert stored.status_code == 201, stored.text
    item = stored.json()
    assert item["key"].endswith("/cat.png")  # the client's path is not trusted
    assert (item["size"], item["content_type"]) == (len(PICTURE), "image/png")
    served = uploads.get(item["url"])
    assert (served.status_code, served.content) == (200, PICTURE)
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=3600"
    assert uploads.get(item["url"], headers={"if-none-match": served.headers["etag"]}).status_code == 304
    part = uploads.get(item["url"], headers={"range": "bytes=8-15"})
    assert (part.status_code, part.content) == (206, PICTURE[8:16])
    folder = item["key"].split("/")[0]
    assert [i["key"] for i in uploads.get("/files", params={"prefix": folder}).json()] == [item["key"]]
    link = uploads.get(f"/links/{item['key']}").json()["url"]
    fetched = uploads.get(link) if link.startswith("/") else httpx.get(link)
    assert fetched.content == PICTURE
    assert uploads.delete(f"/files/{item['key']}").status_code == 204
    assert uploads.get(item["url"]).status_code == 404
    missing = uploads.delete(f"/files/{item['key']}")
    assert (missing.status_code, missing.json()) == (404, {"detail": "No such file"})
