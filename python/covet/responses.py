"""Response classes, Starlette-compatible.

A response is data for the engine: `status_code`, `raw_headers` (bytes pairs) and `body`. The
engine writes a plain response itself (`_direct`); streaming and file responses, and responses
with background work, are sent by covet's Python side chunk by chunk.
"""

from __future__ import annotations

import asyncio
import functools
import mimetypes
import os
import re
import warnings
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from email.utils import format_datetime
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import quote

from covet import _engine
from covet._engine import dumps
from covet.background import BackgroundTask
from covet.concurrency import iterate_in_threadpool, run_in_threadpool
from covet.datastructures import MutableHeaders
from covet.encoders import json_default
from covet.exceptions import FastAPIDeprecationWarning

__all__ = [
    "Response",
    "JSONResponse",
    "PlainTextResponse",
    "HTMLResponse",
    "RedirectResponse",
    "StreamingResponse",
    "FileResponse",
]

Send = Callable[[dict[str, Any]], Awaitable[None]]


_CONTENT_TYPES: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _content_type(media_type: str, charset: str) -> tuple[bytes, bytes]:
    """The content-type header for a media type (text types get a charset), built once."""
    header = _CONTENT_TYPES.get((media_type, charset))
    if header is None:
        value = media_type
        if value.startswith("text/") and "charset=" not in value.lower():
            value += f"; charset={charset}"
        header = _CONTENT_TYPES[(media_type, charset)] = (b"content-type", value.encode("latin-1"))
    return header


class Response:
    """A complete response with a bytes body."""

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        if headers is None:
            # The common case, kept cheap: one cached content-type header.
            media = self.media_type
            self.raw_headers: list[tuple[bytes, bytes]] = [] if media is None else [_content_type(media, self.charset)]
        else:
            self.raw_headers = []
            self.init_headers(headers)

    def render(self, content: Any) -> bytes:
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return bytes(content)
        return str(content).encode(self.charset)

    def init_headers(self, headers: Mapping[str, str] | None) -> None:
        raw = self.raw_headers
        if headers:
            for k, v in headers.items():
                raw.append((k.lower().encode("latin-1"), v.encode("latin-1")))
        media_type = self.media_type
        if media_type is not None and not any(k == b"content-type" for k, _ in raw):
            raw.append(_content_type(media_type, self.charset))

    async def prepare(self, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> None:
        """Work done before the head is sent, knowing the request's method and headers (a
        file response answers `Range` and the `If-*` headers here)."""

    @property
    def _direct(self) -> bool:
        """Whether the engine may write this response itself, with nothing left to run."""
        return self.background is None

    @property
    def headers(self) -> MutableHeaders:
        return MutableHeaders(self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        cookie: SimpleCookie = SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age
        if expires is not None:
            if isinstance(expires, datetime):
                morsel["expires"] = format_datetime(expires, usegmt=True)
            else:
                morsel["expires"] = expires
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError("samesite must be 'strict', 'lax' or 'none'")
            morsel["samesite"] = samesite
        line = cookie.output(header="").strip()
        if partitioned:
            line += "; Partitioned"
        self.raw_headers.append((b"set-cookie", line.encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def send_asgi(self, send: Send, head_only: bool = False) -> None:
        """Sends this response through an ASGI `send` callable."""
        headers = list(self.raw_headers)
        if self.status_code >= 200 and self.status_code not in (204, 304):
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head_only else self.body})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        """Responses are ASGI applications too, as in Starlette."""
        await self.send_asgi(send, scope.get("method") == "HEAD")
        if self.background is not None:
            await self.background()


class JSONResponse(Response):
    """JSON, serialized by the engine's Rust encoder."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content, json_default)


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class RedirectResponse(Response):
    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, None, background)
        self.raw_headers.append((b"location", quote(str(url), safe=":/%#?=@[]!$&'()*+,;").encode("latin-1")))


Content = str | bytes | memoryview
ContentStream = AsyncIterable[Content] | Iterable[Content]


class StreamingResponse(Response):
    """A body produced piece by piece by a sync or async iterator, sent chunked."""

    _direct = False  # type: ignore[assignment]

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[Content] = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.raw_headers = []
        self.init_headers(headers)

    content_length: int | None = None
    # Set by the server sending this response: awaits the client's departure. Long-lived
    # streams (server-sent events) use it to stop their producer at once rather than at the
    # next write.
    disconnected: Callable[[], Awaitable[None]] | None = None

    async def chunks(self) -> AsyncIterable[bytes]:
        async for chunk in self.body_iterator:
            if isinstance(chunk, str):
                yield chunk.encode(self.charset)
            else:
                yield bytes(chunk)

    async def send_asgi(self, send: Send, head_only: bool = False) -> None:
        headers = list(self.raw_headers)
        if self.content_length is not None:
            headers.append((b"content-length", str(self.content_length).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        if not head_only:
            chunks = self.chunks()
            try:
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                # A failed send stops the producer now, not whenever the generator is collected.
                await chunks.aclose()  # type: ignore[attr-defined]
        await send({"type": "http.response.body", "body": b""})


class FileResponse(StreamingResponse):
    """A file from disk, answered by the engine as a `StaticFiles` file is: `ETag` and
    `Last-Modified`, 304/412 by the `If-*` headers, `Range` into 206 (one range or multipart)
    or 416, and HEAD. `prepare` asks the engine for the answer to the request at hand; covet's
    server then writes it from Rust, other ASGI servers get it in chunks read in the thread pool."""

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.background = background
        self.body = b""
        self.media_type = media_type or mimetypes.guess_type(filename or self.path)[0] or "text/plain"
        self.raw_headers = []
        self.init_headers(headers)
        if filename is not None:
            quoted = quote(filename)
            if quoted != filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            self.raw_headers.append((b"content-disposition", disposition.encode("latin-1")))
        self.stat_result = stat_result
        if stat_result is not None:
            self.content_length = stat_result.st_size
        self.answer: Any = None
        self.body_iterator = self._own_body = self._read()

    @property
    def engine_answer(self) -> Any:
        """The engine's answer while the body is still the file's own (not, say, gzipped)."""
        return self.answer if self.body_iterator is self._own_body else None

    async def prepare(self, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> None:
        """Asks the engine for the answer to a request with this `method` and these request
        `headers` (names in lower case); status and headers become the answer's. Once only: a
        middleware that prepares it early (gzip) decides for the request."""
        if self.answer is not None:
            return
        own = self.raw_headers
        content_type = next((v for k, v in own if k == b"content-type"), b"")
        extra = [(k, v) for k, v in own if k != b"content-type"]
        try:
            answer = _engine.file_answer(self.path, content_type, method, headers or [], self.status_code, extra)
        except OSError as exc:
            raise RuntimeError(str(exc)) from None
        self.answer = answer
        self.status_code = answer.status
        self.raw_headers[:] = answer.headers  # in place: a middleware may hold `headers`
        self.content_length = None if answer.status in (204, 304) else answer.length

    async def _read(self) -> AsyncIterable[bytes]:
        async for chunk in answer_chunks(self.answer, self.chunk_size):
            yield chunk

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        """As an ASGI app, it answers the request of `scope`."""
        headers = [(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers", [])]
        await self.prepare(scope.get("method", "GET"), headers)
        await super().__call__(scope, receive, send)


async def answer_chunks(answer: Any, size: int) -> AsyncIterable[bytes]:
    """The body of an engine answer (`StaticAnswer`): a small one at once, a large one in
    `size` chunks read in the thread pool (the engine's reads release the GIL)."""
    if answer.length <= size:
        if answer.length:
            yield answer.read(answer.length)
        return
    while chunk := await run_in_threadpool(answer.read, size):
        yield chunk


_TOKEN = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def valid_headers(headers: list[tuple[bytes, bytes]]) -> bool:
    """Header names must be tokens and values free of CR, LF and NUL (no response splitting)."""
    return all(
        _TOKEN.match(name) and b"\r" not in value and b"\n" not in value and b"\0" not in value
        for name, value in headers
    )


async def send_to_engine(response: Response, conn: Any) -> None:
    """Streams a prepared response over one of the engine's connections, honouring
    backpressure and stopping the producer when the client goes away."""
    if not isinstance(response, StreamingResponse):
        conn.send_response(response)
        return
    if isinstance(response, FileResponse) and response.engine_answer is not None:
        conn.send_static(response.engine_answer)
        return
    conn.start_stream(response, response.content_length)
    if conn.head_only:
        return
    response.disconnected = functools.partial(_engine_disconnected, conn)
    loop = asyncio.get_running_loop()
    chunks = response.chunks()
    try:
        async for chunk in chunks:
            if conn.closed:
                break
            conn.write_chunk(chunk)
            if conn.write_paused:
                waiter = loop.create_future()
                conn.set_drain_waiter(waiter)
                await waiter
        conn.end_stream()
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def _engine_disconnected(conn: Any) -> None:
    waiter = asyncio.get_running_loop().create_future()
    conn.set_disconnect_waiter(waiter)
    await waiter


async def asgi_disconnected(receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    """Returns once an ASGI server reports `http.disconnect` (the rest of a body is dropped)."""
    while (await receive())["type"] != "http.disconnect":
        pass


# `ORJSONResponse` and `UJSONResponse`, kept for ported code (FastAPI deprecates both). covet's
# `JSONResponse` is already serialized by the engine's Rust encoder, so a third-party JSON library
# would not make it faster: both are `JSONResponse` with a deprecation warning when one is built,
# and neither needs orjson or ujson installed. Left out of `__all__`, as FastAPI leaves them.


class _DeprecatedJSON(JSONResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{type(self).__name__} is deprecated: covet's JSONResponse is encoded in Rust already; use it instead.",
            FastAPIDeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)


class ORJSONResponse(_DeprecatedJSON):
    """Deprecated: `JSONResponse`."""


class UJSONResponse(_DeprecatedJSON):
    """Deprecated: `JSONResponse`."""
