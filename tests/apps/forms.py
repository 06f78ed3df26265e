"""An app that echoes the forms it receives, served by the form tests through TestClient and
through `covet run`."""

from __future__ import annotations

import hashlib
from typing import Any

from covet import Covet, Request
from covet.datastructures import FormData, UploadFile
from covet.formparsers import parse_form

app = Covet()

# The last form a handler saw, so tests can check its files are closed after the response.
LAST: list[FormData] = []


async def describe(form: FormData) -> dict[str, Any]:
    """Each key's values: a field as its text, a file as what a client would want to check."""
    out: dict[str, list[Any]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            await value.seek(0)
            value = {
                "filename": value.filename,
                "content_type": value.content_type,
                "size": value.size,
                "length": len(content),
                "head": content[:64].decode("latin-1"),
                "rolled": value.file._rolled,  # type: ignore[attr-defined]
                "headers": value.headers.items(),
            }
        out.setdefault(name, []).append(value)
    return out


@app.post("/form")
async def form(request: Request):
    data = await request.form()
    LAST[:] = [data]
    return await describe(data)


@app.post("/limited")
async def limited(request: Request):
    """Limits from the query string: `?max_files=1&max_fields=2&max_part_size=10`."""
    limits = {k: int(v) for k, v in request.query_params.items()}
    return await describe(await request.form(**limits))


@app.post("/spool")
async def spool(request: Request):
    """parse_form with a small spool size: files over 100 bytes go to disk."""
    return await describe(await parse_form(request, spool_max_size=100))


@app.post("/context")
async def context(request: Request):
    async with request.form() as data:
        upload = data["f"]
        assert isinstance(upload, UploadFile)
        text = (await upload.read()).decode()
    return {"text": text, "closed": upload.file.closed}


@app.post("/twice")
async def twice(request: Request):
    first = await request.form()
    second = await request.form()
    return {"same": first is second, "body": (await request.body()).decode("latin-1")}


@app.post("/checksum")
async def checksum(request: Request):
    """Each file's size, SHA-256 (of what reading the UploadFile gives back, 1 MiB at a time, so
    the handler itself holds little) and whether it rolled over to disk; fields as their text."""
    form = await request.form()
    out: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            digest, length = hashlib.sha256(), 0
            while chunk := await value.read(1024 * 1024):
                digest.update(chunk)
                length += len(chunk)
            value = {
                "size": value.size,
                "length": length,
                "sha256": digest.hexdigest(),
                "rolled": value.file._rolled,  # type: ignore[attr-defined]
            }
        out[name] = value
    return out
