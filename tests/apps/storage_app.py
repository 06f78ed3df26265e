"""A bucket behind covet endpoints, one app per backend (`s3_app`, `gcs_app`, `local_app`): the
endpoints come from the environment (STORAGE_S3_URL, STORAGE_GCS_URL, STORAGE_BUCKET,
STORAGE_DIR), set by tests/test_storage.py's session fixtures before the server starts."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from covet import Covet, File, Request, UploadFile
from covet.responses import Response
from covet.storage import GCSStorage, LocalStorage, S3Storage, Storage, StorageFiles


def _test_account() -> dict[str, str]:
    """A service account of the test's own (a fresh RSA key) to sign GCS URLs with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {"client_email": "tests@covet.iam.gserviceaccount.com", "private_key": pem.decode()}


def _open(kind: str) -> Storage:
    bucket = os.environ.get("STORAGE_BUCKET", "covet-test")
    if kind == "s3":
        return S3Storage(
            bucket,
            endpoint_url=os.environ.get("STORAGE_S3_URL", "http://127.0.0.1:9000"),
            access_key="testing",
            secret_key="testing",
        )
    if kind == "gcs":
        url = os.environ.get("STORAGE_GCS_URL", "http://127.0.0.1:9023")
        return GCSStorage(bucket, endpoint_url=url, service_account=_test_account())
    directory = os.environ.get("STORAGE_DIR") or tempfile.mkdtemp(prefix="covet-storage-")
    return LocalStorage(directory, base_url="/media", secret="test-secret")


def make_app(kind: str) -> Covet:
    storage = _open(kind)

    @asynccontextmanager
    async def lifespan(app: Covet) -> AsyncIterator[None]:
        yield
        await storage.aclose()

    app = Covet(lifespan=lifespan)

    @app.post("/upload/{key:path}")
    async def upload(key: str, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        info = await storage.put(key, file, file.content_type)
        return {"key": info.key, "size": info.size, "etag": info.etag}

    @app.get("/files/{key:path}")
    async def get_file(key: str, request: Request) -> Response:
        return await storage.response(key, request.headers, request.method)

    @app.delete("/files/{key:path}")
    async def delete_file(key: str) -> dict[str, bool]:
        return {"deleted": await storage.delete(key)}

    @app.get("/list")
    async def list_files(prefix: str = "") -> list[dict[str, Any]]:
        return [{"key": i.key, "size": i.size} for i in await storage.list(prefix)]

    @app.get("/url/{key:path}")
    async def signed_url(key: str) -> dict[str, str]:
        return {"url": storage.url(key, expires=600)}

    @app.get("/pid")
    async def pid() -> dict[str, int]:
        return {"pid": os.getpid()}

    app.mount("/media", StorageFiles(storage, cache_control="public, max-age=60"))
    return app


s3_app = make_app("s3")
gcs_app = make_app("gcs")
local_app = make_app("local")
