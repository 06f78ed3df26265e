"""`StorageFiles`: a bucket mounted as an ASGI app, `app.mount("/media", StorageFiles(storage))`.

The answers (ETag, Last-Modified, 304, Range, If-Range, 206/416, HEAD) are those of
`Storage.response`, the same rules as covet's StaticFiles; `cache_control` adds one header to
every 200/206/304.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from covet.responses import Response
from covet.storage.base import Storage

__all__ = ["StorageFiles"]


class StorageFiles:
    def __init__(self, storage: Storage, *, cache_control: str | None = None) -> None:
        self.storage = storage
        self.cache_control = cache_control

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        method = scope["method"]
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        key = unquote(path).lstrip("/")
        response: Response
        if method not in ("GET", "HEAD"):
            response = Response(b"Method Not Allowed", status_code=405, headers={"allow": "GET, HEAD"})
        elif not key or ".." in key.split("/") or "\x00" in key:
            response = Response(b"Not Found", status_code=404, media_type="text/plain")
        else:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            response = await self.storage.response(key, headers, method)
            if self.cache_control and response.status_code in (200, 206, 304):
                response.raw_headers.append((b"cache-control", self.cache_control.encode()))
        await response.send_asgi(send, head_only=method == "HEAD")
