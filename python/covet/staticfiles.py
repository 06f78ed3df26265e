"""`StaticFiles`: files from a directory (or a package's `statics/`), Starlette's options.

An ASGI app, mounted with `app.mount("/static", StaticFiles(directory="static"))`. It answers
GET and HEAD (405 otherwise), 404 for anything outside its directories, with `ETag` and
`Last-Modified` so that `If-None-Match` / `If-Modified-Since` get a 304. With `html=True` a
directory serves its `index.html` (a path without its trailing slash is redirected to it) and a
missing file serves `404.html` when there is one.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from email.utils import parsedate_to_datetime
from typing import Any

from covet.concurrency import run_in_threadpool
from covet.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

__all__ = ["StaticFiles", "NotModifiedResponse"]

PathLike = str | os.PathLike[str]


class NotModifiedResponse(Response):
    """304: the client's copy is current; only the validators are repeated."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__(status_code=304)
        keep = (b"etag", b"last-modified", b"cache-control", b"vary", b"expires", b"content-location", b"date")
        self.raw_headers = [(k, v) for k, v in headers if k in keep]


class StaticFiles:
    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories = self._directories(directory, packages)
        self.html = html
        self.follow_symlink = follow_symlink
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    @staticmethod
    def _directories(directory: PathLike | None, packages: list[str | tuple[str, str]] | None) -> list[PathLike]:
        found: list[PathLike] = [directory] if directory is not None else []
        for package in packages or []:
            name, sub = package if isinstance(package, tuple) else (package, "statics")
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                raise RuntimeError(f"Package {name!r} could not be found.")
            path = os.path.join(os.path.dirname(spec.origin), sub)
            if not os.path.isdir(path):
                raise RuntimeError(f"Directory '{sub}' in package {name!r} could not be found.")
            found.append(path)
        return found

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        response = await self.get_response(self.get_path(scope), scope)
        await response.send_asgi(send, head_only=scope["method"] == "HEAD")

    def get_path(self, scope: dict[str, Any]) -> str:
        """The path inside the mount, as a relative OS path."""
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return os.path.normpath(os.path.join(*path.split("/")))

    async def get_response(self, path: str, scope: dict[str, Any]) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", status_code=405, headers={"allow": "GET, HEAD"})
        if path.startswith(".."):
            return PlainTextResponse("Not Found", status_code=404)
        full, st = await run_in_threadpool(self.lookup_path, path)
        if st is not None and stat.S_ISREG(st.st_mode):
            return self.file_response(full, st, scope)
        if st is not None and stat.S_ISDIR(st.st_mode) and self.html:
            index, index_st = await run_in_threadpool(self.lookup_path, os.path.join(path, "index.html"))
            if index_st is not None and stat.S_ISREG(index_st.st_mode):
                if not scope["path"].endswith("/"):
                    return RedirectResponse(scope["path"] + "/", status_code=307)
                return self.file_response(index, index_st, scope)
        if self.html:
            page, page_st = await run_in_threadpool(self.lookup_path, "404.html")
            if page_st is not None and stat.S_ISREG(page_st.st_mode):
                return FileResponse(page, status_code=404, stat_result=page_st)
        return PlainTextResponse("Not Found", status_code=404)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """The first directory holding `path`, never a file outside it (symlinks leading out are
        refused unless `follow_symlink`)."""
        for directory in self.all_directories:
            try:  # missing, not a directory, name too long, a NUL byte...: not found
                root = os.path.realpath(directory) if not self.follow_symlink else os.path.abspath(directory)
                joined = os.path.join(root, path)
                full = os.path.abspath(joined) if self.follow_symlink else os.path.realpath(joined)
                if os.path.commonpath([root, full]) != root:
                    continue
                return full, os.stat(full)
            except (OSError, ValueError):
                continue
        return "", None

    def file_response(self, full: str, st: os.stat_result, scope: dict[str, Any]) -> Response:
        response = FileResponse(full, stat_result=st)
        if self.is_not_modified(response.raw_headers, scope):
            return NotModifiedResponse(response.raw_headers)
        return response

    @staticmethod
    def is_not_modified(headers: list[tuple[bytes, bytes]], scope: dict[str, Any]) -> bool:
        sent = dict(headers)
        asked = {k.lower(): v for k, v in scope.get("headers", [])}
        if b"if-none-match" in asked:
            tags = [t.strip().removeprefix(b"W/") for t in asked[b"if-none-match"].split(b",")]
            return sent.get(b"etag") in tags or b"*" in tags
        if b"if-modified-since" in asked and b"last-modified" in sent:
            try:
                return parsedate_to_datetime(sent[b"last-modified"].decode()) <= parsedate_to_datetime(
                    asked[b"if-modified-since"].decode()
                )
            except (TypeError, ValueError):
                return False
        return False
