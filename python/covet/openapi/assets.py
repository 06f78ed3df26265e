"""The vendored Swagger UI and ReDoc files in `covet/static/`, served by covet itself.

Only files that exist in that directory when the app starts can be served (a fixed table of
names, so no request path can reach outside it), each with its content type, an ETag and a
cache lifetime. Files are read on first request and kept in memory: they are a few MB, the
same for every request, and a bytes response is written by the engine without Python chunking.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from covet.requests import Request
from covet.responses import Response

__all__ = ["STATIC_DIR", "CONTENT_TYPES", "asset_names", "serve_asset"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# A day: the URLs carry no version, so an upgraded covet's assets reach browsers within a day;
# the ETag lets a browser revalidate cheaply after that.
CACHE_CONTROL = "public, max-age=86400"


def asset_names() -> frozenset[str]:
    """The servable files: regular files directly in the static directory, known types only."""
    if not STATIC_DIR.is_dir():
        return frozenset()
    return frozenset(p.name for p in STATIC_DIR.iterdir() if p.is_file() and p.suffix in CONTENT_TYPES)


_cache: dict[str, tuple[bytes, str]] = {}


def _load(name: str) -> tuple[bytes, str]:
    cached = _cache.get(name)
    if cached is None:
        body = (STATIC_DIR / name).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cached = _cache[name] = (body, etag)
    return cached


def serve_asset(request: Request, name: str, allowed: frozenset[str]) -> Response:
    """The response for `/_covet/static/{name}`: the file, 304 if the browser has it, or 404."""
    if name not in allowed:
        return Response("Not Found", status_code=404, media_type="text/plain")
    body, etag = _load(name)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=CONTENT_TYPES[Path(name).suffix])


def _etag_matches(header: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates
