"""Form bodies: `application/x-www-form-urlencoded` and `multipart/form-data`.

Both are decoded in Rust (`covet._engine.parse_qsl`, `covet._engine.parse_multipart`); this
module only turns the result into a `FormData` and puts each uploaded file in a
`SpooledTemporaryFile`, so a large upload lives on disk rather than in the worker's memory once
the request is parsed. The engine has already read the whole body, within the server's body
size limit, before the handler runs.
"""

from __future__ import annotations

from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING

from covet import _engine
from covet.datastructures import FormData, Headers, UploadFile
from covet.exceptions import HTTPException

if TYPE_CHECKING:
    from covet.requests import Request

__all__ = ["parse_form"]

# Larger than any real part's headers, small enough that a hostile body cannot make a part's
# header block costly; over it the body gets 413.
_MAX_PART_HEADER_SIZE = 16 * 1024


async def parse_form(
    request: Request,
    *,
    max_files: int = 1000,
    max_fields: int = 1000,
    max_part_size: int = 1024 * 1024,
    spool_max_size: int = 1024 * 1024,
) -> FormData:
    """Parses the request body as a form, as Starlette's `Request.form()` does.

    `max_files` and `max_fields` bound the number of file and non-file parts, `max_part_size`
    the size of one non-file part (files are bounded by the server's body limit only), and
    `spool_max_size` how much of one file is kept in memory before it rolls over to disk.
    A malformed multipart body raises `HTTPException(400)`; a body over a limit raises
    `HTTPException(413)`. A body of any other content type gives an empty form.
    """
    content_type = request.headers.get("content-type") or ""
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return FormData(_engine.parse_qsl(await request.body()))
    if media_type == "multipart/form-data":
        return await _parse_multipart(
            await request.body(),
            content_type,
            max_files=max_files,
            max_fields=max_fields,
            max_part_size=max_part_size,
            spool_max_size=spool_max_size,
        )
    return FormData()


async def _parse_multipart(
    body: bytes,
    content_type: str,
    *,
    max_files: int,
    max_fields: int,
    max_part_size: int,
    spool_max_size: int,
) -> FormData:
    try:
        parts = _engine.parse_multipart(
            body, content_type, max_files + max_fields, max_part_size, _MAX_PART_HEADER_SIZE
        )
    except OverflowError as exc:
        raise HTTPException(413, f"Multipart body too large: {exc}") from None
    except ValueError as exc:
        raise HTTPException(400, f"Malformed multipart body: {exc}") from None

    # Counted before any temporary file is made, so a refused body leaves nothing to clean up.
    files = sum(1 for part in parts if part[1] is not None)
    if files > max_files:
        raise HTTPException(413, f"Too many files: the limit is {max_files}")
    if len(parts) - files > max_fields:
        raise HTTPException(413, f"Too many fields: the limit is {max_fields}")

    items: list[tuple[str, str | UploadFile]] = []
    try:
        for name, filename, _, headers, data in parts:
            if filename is None:
                items.append((name, _decode(data)))
                continue
            upload = UploadFile(
                SpooledTemporaryFile(max_size=spool_max_size),  # noqa: SIM115 - FormData.close()
                size=0,
                filename=filename,
                headers=Headers(raw=headers),
            )
            items.append((name, upload))
            if data:
                await upload.write(data)
                await upload.seek(0)
    except BaseException:
        await FormData(items).close()
        raise
    return FormData(items)


def _decode(data: bytes) -> str:
    """A field's text. UTF-8 as browsers send it; bytes that are not UTF-8 are read as latin-1,
    as Starlette does, so no byte is lost or replaced."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
