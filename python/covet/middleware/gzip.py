"""`GZipMiddleware`: gzip response bodies for clients that accept it (Starlette's options).

It runs in Python around the handler, as request middleware: a body already in memory is
compressed in one call; a streamed body is compressed chunk by chunk as it is sent, so a stream
stays a stream. Bodies under `minimum_size` bytes, responses that already carry a
`Content-Encoding`, and Server-Sent Events (which must reach the client as they are written)
are sent as they are.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

from covet.middleware import BaseHTTPMiddleware, CallNext
from covet.requests import Request
from covet.responses import Response

__all__ = ["GZipMiddleware"]

_NOT_COMPRESSED = ("text/event-stream",)


class GZipMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: Any = None, minimum_size: int = 500, compresslevel: int = 9) -> None:
        super().__init__(app)
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        if "gzip" not in request.headers.get("accept-encoding", "").lower():
            return response
        headers = response.headers
        if "content-encoding" in headers or headers.get("content-type", "").startswith(_NOT_COMPRESSED):
            return response
        iterator = getattr(response, "body_iterator", None)
        if iterator is None:
            if len(response.body) < self.minimum_size:
                return response
            response.body = gzip.compress(response.body, self.compresslevel)
        else:
            prepare = getattr(response, "prepare", None)
            if prepare is not None:  # a file: answered now, whole (ranges of gzip are not offered)
                await prepare(request.method)
            response.body_iterator = _gzip_stream(iterator, self.compresslevel)  # type: ignore[attr-defined]
            response.content_length = None  # type: ignore[attr-defined]
        del headers["content-length"]
        headers["content-encoding"] = "gzip"
        _add_vary(headers)
        return response


def _add_vary(headers: Any) -> None:
    vary = headers.get("vary")
    if not vary:
        headers["vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        headers["vary"] = f"{vary}, Accept-Encoding"


async def _gzip_stream(chunks: Any, level: int) -> AsyncIterator[bytes]:
    """Each chunk compressed and flushed as it comes, so the client sees it without waiting
    for the end of the stream."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    async for chunk in chunks:
        data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if out:
            yield out
    yield compressor.flush()
