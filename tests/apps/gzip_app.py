"""An app behind GZipMiddleware, for tests/test_gzip.py."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

from covet import Covet
from covet.middleware.gzip import GZipMiddleware
from covet.responses import FileResponse, PlainTextResponse, Response, StreamingResponse

BIG = "x" * 1000 + "covet" * 200

app = Covet()
app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)


@app.get("/big")
def big() -> PlainTextResponse:
    return PlainTextResponse(BIG, headers={"vary": "Origin"})


@app.get("/small")
def small() -> PlainTextResponse:
    return PlainTextResponse("tiny")


@app.get("/encoded")
def encoded() -> Response:
    return Response(BIG.encode(), media_type="text/plain", headers={"content-encoding": "identity"})


@app.get("/stream")
def stream() -> StreamingResponse:
    def parts() -> Iterator[str]:
        for i in range(20):
            yield f"part {i} " * 40

    return StreamingResponse(parts(), media_type="text/plain")


FILE = os.path.join(tempfile.gettempdir(), f"covet-gzip-{os.getpid()}.txt")


@app.get("/file")
def file() -> FileResponse:
    with open(FILE, "w") as f:
        f.write(BIG)
    return FileResponse(FILE, media_type="text/plain")
