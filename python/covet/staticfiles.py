"""`StaticFiles`: files from a directory (or a package's `statics/`), Starlette's options.

Mounted with `app.mount("/static", StaticFiles(directory="static"))`. Every decision (which
file, whether the path is safe, 304/412, ranges, content type, precompressed siblings, html
mode) is made by the engine (`covet_engine::static_files`), so the answers are the same
everywhere:

- on covet's own server the engine answers requests under the mount itself, without calling
  Python (unless the app has Python HTTP middleware, which must see every request, or a
  subclass overrides `get_response` or `__call__`);
- under uvicorn or another ASGI server, and in the TestClient, this object is an ASGI app that
  asks the engine for the answer and sends it, reading large bodies in the thread pool.

Beyond Starlette's options: hidden names (`.env`, `.git/`) are 404 unless `dotfiles=True`;
`x.br`/`x.gz` beside `x` are sent to clients that accept them (`precompressed=False` turns that
off); `cache_control` maps path patterns (`*` for any run of characters) to `Cache-Control`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from covet import _engine
from covet.assets import IMMUTABLE, load_manifest
from covet.responses import FileResponse, Response, StreamingResponse, answer_chunks

__all__ = ["StaticFiles", "NotModifiedResponse", "engine_static_mounts"]

PathLike = str | os.PathLike[str]

# Bodies up to this size are read at once, on the loop; larger ones in chunks, in the pool.
CHUNK = 64 * 1024


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
        dotfiles: bool = False,
        precompressed: bool = True,
        cache_control: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories = self._directories(directory, packages)
        self.html = html
        self.follow_symlink = follow_symlink
        self.options: dict[str, Any] = {
            "html": html,
            "follow_symlink": follow_symlink,
            "allow_hidden": dotfiles,
            "precompressed": precompressed,
            "cache_control": list((cache_control or {}).items()),
        }
        # `covet assets build` output: fingerprinted names for url_for, cached for a year.
        self.assets = load_manifest(directory) if directory is not None else {}
        immutable = [(name, IMMUTABLE) for name in self.assets.values()]
        self.options["cache_control"] = immutable + self.options["cache_control"]
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")
        self._dir: Any = None

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

    def engine_dir(self) -> Any:
        """The engine's directory object, opened on first use (with `check_dir=False` the
        directory may appear after the app is built). None while no directory exists."""
        if self._dir is None:
            existing = [os.fspath(d) for d in self.all_directories if os.path.isdir(d)]
            if not existing:
                return None
            self._dir = _engine.StaticDir(existing, **self.options)
        return self._dir

    @property
    def engine_served(self) -> bool:
        """Whether covet's server may answer this app in the engine: not when a subclass
        changes how requests are answered."""
        cls = type(self)
        return cls.__call__ is StaticFiles.__call__ and cls.get_response is StaticFiles.get_response

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        response = await self.get_response(self.get_path(scope), scope)
        await response.send_asgi(send, head_only=scope["method"] == "HEAD")

    def get_path(self, scope: dict[str, Any]) -> str:
        """The path inside the mount (the engine resolves and checks it)."""
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path

    async def get_response(self, path: str, scope: dict[str, Any]) -> Response:
        """The engine's answer for `path` (inside the mount) as a response."""
        directory = self.engine_dir()
        if directory is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        headers = [(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers", [])]
        answer = directory.answer(
            scope["method"], "/" + path.lstrip("/"), scope["path"], scope.get("query_string", b""), headers
        )
        return answer_response(answer, head_only=scope["method"] == "HEAD")

    def asset_path(self, path: str) -> str:
        """`path`'s fingerprinted name when `covet assets build` made one (url_for uses it)."""
        found = self.assets.get(path.lstrip("/"))
        return path if found is None else path[: len(path) - len(path.lstrip("/"))] + found

    # Starlette's helpers, kept for subclasses and for covet.frontend (which serves its own
    # fallbacks): the engine does not use them.

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
        """The file as a `FileResponse`, which answers the request's `If-*` and `Range`."""
        return FileResponse(full, stat_result=st)

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


def answer_response(answer: Any, head_only: bool = False) -> Response:
    """A `StaticAnswer` as a response: small bodies whole, large ones streamed."""
    response: Response
    if head_only or answer.length > CHUNK:
        stream = StreamingResponse(_nothing() if head_only else answer_chunks(answer, CHUNK), status_code=answer.status)
        stream.content_length = None if answer.status in (204, 304) else answer.length
        response = stream
    else:
        response = Response(answer.read(answer.length), status_code=answer.status)
    response.raw_headers = answer.headers
    return response


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator with no items


def engine_static_mounts(routes: list[Any]) -> list[tuple[int, Any]]:
    """(endpoint index, engine directory) for each mounted `StaticFiles` the engine may answer."""
    from covet.mounts import Mount

    found = []
    for index, route in enumerate(routes):
        app = getattr(route, "app", None)
        if isinstance(route, Mount) and isinstance(app, StaticFiles) and app.engine_served:
            directory = app.engine_dir()
            if directory is not None:
                found.append((index, directory))
    return found
