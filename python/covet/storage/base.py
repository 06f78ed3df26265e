"""The one interface every backend implements, and the HTTP answer built on it.

A backend knows five things: put a stream, describe an object (`stat`), read a byte range of
it, delete it and list keys. Everything HTTP (ETag/Last-Modified, 304, Range/If-Range, 206/416)
is decided here once, so a bucket answers exactly as covet's StaticFiles does whatever the
backend.
"""

from __future__ import annotations

import abc
import logging
import mimetypes
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from covet.datastructures import UploadFile
from covet.exceptions import HTTPException
from covet.responses import Response, StreamingResponse

__all__ = ["ObjectInfo", "Storage", "Source", "CHUNK", "InvalidKey", "StorageError", "check_key"]

log = logging.getLogger("covet.storage")

# Uploads are read, and downloads sent, in pieces of this size: memory per transfer is bounded.
CHUNK = 256 * 1024

Source = UploadFile | bytes | AsyncIterable[bytes]


class StorageError(HTTPException):
    """The storage service refused or failed a request: 502 for the client (with no detail of
    the service's), one warning line with the service's status and answer in the log."""

    def __init__(self, message: str) -> None:
        super().__init__(502, "Storage service error")
        self.message = message
        log.warning("storage service error: %s", message)

    def __str__(self) -> str:
        return self.message


class InvalidKey(HTTPException):
    """A key no backend should take (empty, absolute, a `..` segment, NUL, over 1024 bytes): 400."""

    def __init__(self, key: str) -> None:
        super().__init__(400, "Invalid storage key")
        log.info("invalid storage key refused: %r", key[:200])


def check_key(key: str) -> str:
    """`key` when it is safe for every backend; InvalidKey otherwise."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\x00" in key or ".." in parts or len(key.encode()) > 1024:
        raise InvalidKey(key)
    return key


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # quoted, as sent in the ETag header
    last_modified: datetime
    content_type: str


class Storage(abc.ABC):
    """Object storage: `LocalStorage`, `S3Storage`, `GCSStorage`."""

    @abc.abstractmethod
    async def put(self, key: str, source: Source, content_type: str | None = None) -> ObjectInfo:
        """Stores `source` under `key`; an UploadFile or iterable is streamed, never read whole."""

    @abc.abstractmethod
    async def stat(self, key: str) -> ObjectInfo | None:
        """The object's description, None when there is none."""

    @abc.abstractmethod
    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive) of the object, in chunks."""

    @abc.abstractmethod
    async def delete(self, key: str) -> bool:
        """Removes the object; False when there was none."""

    @abc.abstractmethod
    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, in key order."""

    @abc.abstractmethod
    def url(self, key: str, expires: int = 3600, method: str = "GET") -> str:
        """A URL that grants `method` on `key` for `expires` seconds without other credentials."""

    async def aclose(self) -> None:
        """Releases connections (a no-op for backends without any)."""
        return None

    async def response(self, key: str, headers: Any, method: str = "GET") -> Response:
        """The HTTP answer for `key`: 200, 206, 304, 404 or 416, as covet's StaticFiles answers."""
        try:
            info = await self.stat(check_key(key))
        except InvalidKey:
            info = None
        if info is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        validators = [
            (b"etag", info.etag.encode()),
            (b"last-modified", format_datetime(info.last_modified, usegmt=True).encode()),
            (b"accept-ranges", b"bytes"),
        ]
        if precondition_failed(info, headers):
            response = Response(b"", status_code=412)
            response.raw_headers = validators
            return response
        if not_modified(info, headers):
            response = Response(status_code=304)
            response.raw_headers = validators
            return response
        span = byte_range(headers.get("range"), info) if if_range_holds(info, headers) else None
        if span == "unsatisfiable":
            response = Response(b"", status_code=416)
            response.raw_headers = [*validators, (b"content-range", f"bytes */{info.size}".encode())]
            return response
        start, end, status = (0, info.size - 1, 200) if span is None else (*span, 206)
        body = _nothing() if method == "HEAD" or info.size == 0 else self.read(key, start, end)
        stream = StreamingResponse(body, status_code=status)
        stream.raw_headers = [*validators, (b"content-type", info.content_type.encode())]
        if status == 206:
            stream.raw_headers.append((b"content-range", f"bytes {start}-{end}/{info.size}".encode()))
        stream.content_length = end - start + 1
        return stream


def guess_type(key: str, given: str | None) -> str:
    return given or mimetypes.guess_type(key)[0] or "application/octet-stream"


def precondition_failed(info: ObjectInfo, headers: Any) -> bool:
    """If-Match (strong comparison) or If-Unmodified-Since not met: 412, nothing sent."""
    asked = headers.get("if-match")
    if asked is not None:
        tags = [t.strip() for t in asked.split(",")]
        return not ("*" in tags or info.etag in tags)
    since = headers.get("if-unmodified-since")
    if since:
        try:
            return int(info.last_modified.timestamp()) > int(parsedate_to_datetime(since).timestamp())
        except (TypeError, ValueError):
            return False
    return False


def not_modified(info: ObjectInfo, headers: Any) -> bool:
    """If-None-Match (weak comparison) wins over If-Modified-Since, as RFC 9110 says."""
    asked = headers.get("if-none-match")
    if asked is not None:
        tags = [t.strip().removeprefix("W/") for t in asked.split(",")]
        return "*" in tags or info.etag.removeprefix("W/") in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            return int(info.last_modified.timestamp()) <= int(parsedate_to_datetime(since).timestamp())
        except (TypeError, ValueError):
            return False
    return False


def byte_range(header: str | None, info: ObjectInfo) -> tuple[int, int] | str | None:
    """(start, end) for one satisfiable range; "unsatisfiable" (also a malformed `bytes=`, as
    StaticFiles); None for the whole object (no header, another unit, several ranges)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":
            start, end = max(info.size - int(last), 0), info.size - 1
        else:
            start, end = int(first), min(int(last), info.size - 1) if last else info.size - 1
    except ValueError:
        return "unsatisfiable"
    if start < 0 or start >= info.size or start > end:
        return "unsatisfiable"
    return start, end


def if_range_holds(info: ObjectInfo, headers: Any) -> bool:
    """If-Range: the range applies only to the representation the client has (strong ETag or
    the exact Last-Modified date)."""
    value = headers.get("if-range")
    if value is None:
        return True
    if value.startswith('"'):
        return value == info.etag
    return value == format_datetime(info.last_modified, usegmt=True)


async def chunks_of(source: Source) -> AsyncIterator[bytes]:
    """`source` as a stream of pieces of at most CHUNK bytes (an UploadFile from its start)."""
    if isinstance(source, bytes):
        for i in range(0, len(source), CHUNK):
            yield source[i : i + CHUNK]
    elif isinstance(source, UploadFile):
        await source.seek(0)
        while piece := await source.read(CHUNK):
            yield piece
    else:
        async for piece in source:
            yield piece


async def size_of(source: Source) -> int | None:
    """The byte count when known without reading (bytes, an UploadFile's spooled file)."""
    if isinstance(source, bytes):
        return len(source)
    if isinstance(source, UploadFile):
        from covet.concurrency import run_in_threadpool

        def measure() -> int:
            source.file.seek(0, 2)
            return int(source.file.tell())

        return await run_in_threadpool(measure)
    return None


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""
