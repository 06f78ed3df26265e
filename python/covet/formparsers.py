"""Form bodies: `application/x-www-form-urlencoded` and `multipart/form-data`.

Both are decoded in Rust (`covet._engine.parse_qsl`, `covet._engine.MultipartParser`).

A multipart body is parsed as it arrives, never joined: `Request.stream()` hands it over chunk by
chunk (a body over the engine's stream threshold, 1 MiB, comes straight off the network, with the
socket paused while the parser is behind), each chunk goes through the incremental parser, and a
file part's content is written into its UploadFile's `SpooledTemporaryFile` as soon as it is
parsed; past `spool_max_size` that file rolls over to disk. Memory per upload therefore stays
bounded by the chunk queue, the spool size and the field limits, whatever the size of the files.

An urlencoded body is parsed in one piece (it has no files, and browsers send small ones), so it
is read whole, and refused with 413 past `max_urlencoded_size` rather than the server's body
limit, which is sized for uploads.
"""

from __future__ import annotations

from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING, Any

from covet import _engine
from covet.datastructures import FormData, Headers, UploadFile
from covet.exceptions import HTTPException

if TYPE_CHECKING:
    from collections.abc import Callable

    from covet._engine import MultipartEvent
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
    max_urlencoded_size: int = 1024 * 1024,
) -> FormData:
    """Parses the request body as a form, as Starlette's `Request.form()` does.

    `max_files` and `max_fields` bound the number of file and non-file parts, `max_part_size`
    the size of one non-file part (files are bounded by the server's body limit only), and
    `spool_max_size` how much of one file is kept in memory before it rolls over to disk.
    `max_urlencoded_size` bounds a whole urlencoded body, which is read into memory at once.
    A malformed multipart body raises `HTTPException(400)`; a body over a limit raises
    `HTTPException(413)`. A body of any other content type gives an empty form.
    """
    content_type = request.headers.get("content-type") or ""
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return FormData(_engine.parse_qsl(await _read_urlencoded(request, max_urlencoded_size)))
    if media_type == "multipart/form-data":
        return await _parse_multipart(
            request,
            content_type,
            max_files=max_files,
            max_fields=max_fields,
            max_part_size=max_part_size,
            spool_max_size=spool_max_size,
        )
    return FormData()


async def _read_urlencoded(request: Request, limit: int) -> bytes:
    """The whole body, read through `stream()` so a large one is refused as soon as it passes
    `limit` instead of after it has all arrived."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"Form body too large: the limit is {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Cached as `body()` would: a handler may still read the raw body after the form.
    request._body = body
    return body


async def _parse_multipart(
    request: Request,
    content_type: str,
    *,
    max_files: int,
    max_fields: int,
    max_part_size: int,
    spool_max_size: int,
) -> FormData:
    parser = _checked(
        _engine.MultipartParser, content_type, max_files + max_fields, max_part_size, _MAX_PART_HEADER_SIZE
    )
    parts = _Parts(max_files, max_fields, spool_max_size)
    try:
        async for chunk in request.stream():
            if chunk:
                await parts.add(_checked(parser.feed, chunk))
        await parts.add(_checked(parser.finish))
    except BaseException:
        # A refused body, a client gone or a cancelled handler: delete the files made so far.
        await FormData(parts.items).close()
        raise
    return FormData(parts.items)


def _checked(call: Callable[..., Any], *args: Any) -> Any:
    """Calls into the parser, turning its errors into the HTTP answers: OverflowError (a
    limit) into 413, ValueError (malformed) into 400."""
    try:
        return call(*args)
    except OverflowError as exc:
        raise HTTPException(413, f"Multipart body too large: {exc}") from None
    except ValueError as exc:
        raise HTTPException(400, f"Malformed multipart body: {exc}") from None


class _Parts:
    """Builds the form from the parser's events as they come. A field's pieces are joined when
    it ends (the parser bounds its size); a file's pieces go straight into its UploadFile, so no
    more of a file than one chunk is held here. Files and fields are counted as they start, so
    a body over `max_files` is refused before it can make more temporary files."""

    def __init__(self, max_files: int, max_fields: int, spool_max_size: int) -> None:
        self.items: list[tuple[str, str | UploadFile]] = []
        self._max_files = max_files
        self._max_fields = max_fields
        self._spool_max_size = spool_max_size
        self._files = 0
        self._fields = 0
        self._name = ""
        self._field: list[bytes] = []
        self._upload: UploadFile | None = None

    async def add(self, events: list[MultipartEvent]) -> None:
        for event in events:
            match event:
                case ("data", data):
                    if self._upload is not None:
                        await self._upload.write(data)
                    else:
                        self._field.append(data)
                case ("start", name, filename, _, headers):
                    self._start(name, filename, headers)
                case ("end",):
                    if self._upload is not None:
                        await self._upload.seek(0)
                        self._upload = None
                    else:
                        self.items.append((self._name, _decode(b"".join(self._field))))
                        self._field = []

    def _start(self, name: str, filename: str | None, headers: list[tuple[str, str]]) -> None:
        if filename is None:
            self._fields += 1
            if self._fields > self._max_fields:
                raise HTTPException(413, f"Too many fields: the limit is {self._max_fields}")
            self._name = name
            return
        self._files += 1
        if self._files > self._max_files:
            raise HTTPException(413, f"Too many files: the limit is {self._max_files}")
        self._upload = UploadFile(
            SpooledTemporaryFile(max_size=self._spool_max_size),  # noqa: SIM115 - FormData.close()
            size=0,
            filename=filename,
            headers=Headers(raw=headers),
        )
        # In the form at once, so it is closed (and its temporary file deleted) on any error.
        self.items.append((name, self._upload))


def _decode(data: bytes) -> str:
    """A field's text. UTF-8 as browsers send it; bytes that are not UTF-8 are read as latin-1,
    as Starlette does, so no byte is lost or replaced."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
