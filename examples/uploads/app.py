"""Uploads stored in a bucket and served back with ranges and caching (docs/storage.md).

The backend comes from the environment:
- `S3_BUCKET` (+ `S3_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`);
- `GCS_BUCKET` (+ `GCS_ENDPOINT_URL`, `GCS_TOKEN`, `GCS_SERVICE_ACCOUNT`: a key file, to sign links);
- otherwise a local directory, `UPLOADS_DIR` (default `./uploads`).

POST /files (multipart, field `file`) stores the upload under a fresh key, streamed; GET
/files lists them; /media/{key} serves one (ETag, 304, Range); GET /links/{key} gives a
time-limited URL; DELETE /files/{key} removes it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from pydantic import BaseModel

from covet import Covet, File, HTTPException, UploadFile
from covet.responses import Response
from covet.storage import GCSStorage, LocalStorage, S3Storage, Storage, StorageFiles


def open_storage() -> Storage:
    env = os.environ
    if env.get("S3_BUCKET"):
        return S3Storage(
            env["S3_BUCKET"],
            endpoint_url=env.get("S3_ENDPOINT_URL", "https://s3.amazonaws.com"),
            region=env.get("AWS_REGION", "us-east-1"),
        )
    if env.get("GCS_BUCKET"):
        endpoint = env.get("GCS_ENDPOINT_URL", "https://storage.googleapis.com")
        account = env.get("GCS_SERVICE_ACCOUNT")
        return GCSStorage(env["GCS_BUCKET"], endpoint_url=endpoint, token=env.get("GCS_TOKEN"), service_account=account)
    return LocalStorage(env.get("UPLOADS_DIR", "uploads"), base_url="/media", secret=env.get("UPLOADS_SECRET", ""))


storage = open_storage()


@asynccontextmanager
async def lifespan(app: Covet) -> AsyncIterator[None]:
    yield
    await storage.aclose()


app = Covet(title="uploads", lifespan=lifespan)
app.mount("/media", StorageFiles(storage, cache_control="public, max-age=3600"), name="media")


class Stored(BaseModel):
    key: str
    size: int
    content_type: str
    url: str


@app.post("/files", status_code=201)
async def upload(file: Annotated[UploadFile, File()]) -> Stored:
    key = f"{uuid.uuid4().hex}/{file.safe_filename or 'upload'}"
    info = await storage.put(key, file, file.content_type)
    return Stored(key=info.key, size=info.size, content_type=info.content_type, url=f"/media/{info.key}")


@app.get("/files")
async def list_files(prefix: str = "") -> list[Stored]:
    found = await storage.list(prefix)
    return [Stored(key=i.key, size=i.size, content_type=i.content_type, url=f"/media/{i.key}") for i in found]


@app.get("/links/{key:path}")
async def link(key: str, expires: int = 600) -> dict[str, str]:
    if await storage.stat(key) is None:
        raise HTTPException(404, "No such file")
    return {"url": storage.url(key, expires=expires)}


@app.delete("/files/{key:path}", status_code=204)
async def delete(key: str) -> Response:
    if not await storage.delete(key):
        raise HTTPException(404, "No such file")
    return Response(status_code=204)
