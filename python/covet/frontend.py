"""`app.frontend("/", directory="dist")`: a built single-page app served behind the API.

A frontend is consulted only when no route matches the path, so the API always wins; among
frontends the longest matching prefix serves. A file is served as `StaticFiles` serves it (a
directory by its `index.html`, after a redirect to the slashed path). A missing file answers,
by `fallback`: "404.html" with status 404; "index.html" (the app shell) for a browser's
navigation (an `Accept` naming text/html or application/xhtml+xml with q > 0), 404 otherwise;
"auto": 404.html if the directory has one, else index.html if it has one, else 404; None: 404.
Only GET and HEAD are served: another method answers 405 for a path that is a file, else 404.
The dependencies of the app or router it is declared on run before it is served.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from collections.abc import Sequence
from typing import Any

from covet.concurrency import run_in_threadpool
from covet.exceptions import HTTPException
from covet.requests import Request
from covet.responses import FileResponse, RedirectResponse, Response
from covet.staticfiles import StaticFiles

__all__ = ["Frontend", "serve_frontend"]

_FALLBACKS = ("auto", "index.html", "404.html", None)
_PAGES = ("text/html", "application/xhtml+xml")


def _normalize(path: str) -> str:
    if not path:
        raise AssertionError("A frontend path cannot be empty")
    if not path.startswith("/"):
        raise AssertionError("A frontend path must start with '/'")
    return path if path == "/" else path.rstrip("/")


def _join(prefix: str, path: str) -> str:
    return path if not prefix else prefix if path == "/" else prefix + path


def _development() -> bool:
    return (os.environ.get("COVET_ENV") or os.environ.get("FASTAPI_ENV")) == "development"


class Frontend:
    """One frontend build directory under one path prefix."""

    def __init__(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: str | None = "auto",
        check_dir: bool | str = "auto",
        dependencies: Sequence[Any] = (),
    ) -> None:
        if fallback not in _FALLBACKS:
            raise AssertionError("fallback must be 'auto', 'index.html', '404.html', or None")
        self.path = _normalize(path)
        self.directory = directory
        self.fallback = fallback
        self.dependencies = list(dependencies)
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)
        if check_dir == "auto":
            check_dir = not _development()
            if not check_dir and not os.path.isdir(directory):
                warnings.warn(self._missing_dir(), stacklevel=3)  # the caller of app.frontend()
        self.check_dir = bool(check_dir)
        if self.check_dir:
            if not os.path.isdir(directory):
                raise RuntimeError(self._missing_dir())
            if fallback in ("index.html", "404.html") and not self._is_file(fallback):
                raise RuntimeError(self._missing_fallback(fallback))
        self._route: Any = None

    def _missing_dir(self) -> str:
        where = os.path.realpath(os.fspath(self.directory))
        return f"Frontend directory '{self.directory}' does not exist. Resolved absolute path: '{where}'"

    def _missing_fallback(self, name: str) -> str:
        where = os.path.realpath(os.fspath(self.directory))
        return (
            f"Frontend fallback file '{name}' does not exist in directory '{self.directory}'. "
            f"Resolved absolute directory: '{where}'"
        )

    def included(self, prefix: str, dependencies: Sequence[Any]) -> Frontend:
        """This frontend as seen from the router including it (its prefix and dependencies first)."""
        copy = object.__new__(Frontend)
        copy.__dict__.update(self.__dict__)
        copy.path = _join(prefix, self.path)
        copy.dependencies = [*dependencies, *self.dependencies]
        copy._route = None
        return copy

    def inner_path(self, path: str) -> str | None:
        """The file path under this frontend, or None when `path` is not under its prefix."""
        if self.path == "/":
            return path.lstrip("/")
        if path == self.path:
            return ""
        return path[len(self.path) + 1 :] if path.startswith(self.path + "/") else None

    def _is_file(self, name: str) -> bool:
        _, st = self._stat(name)
        return st is not None and stat.S_ISREG(st.st_mode)

    def _stat(self, rel: str) -> tuple[str, os.stat_result | None]:
        """`StaticFiles.lookup_path`, its errors answered as StaticFiles answers them: an
        unreadable path 401, a name too long or invalid not found; any other error raises."""
        try:
            return self.files.lookup_path(rel)
        except PermissionError:
            raise HTTPException(401) from None
        except ValueError:  # a NUL byte...
            return "", None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                return "", None
            raise

    def route(self, route_class: Any) -> Any:
        """A `route_class` (APIRoute) around `respond`, so the dependencies are solved as for
        any route; the pipeline passes the class, so this module does not import routing."""
        if self._route is None:

            async def frontend(request: Request) -> Response:
                return await self.respond(request)

            self._route = route_class(self.path, frontend, dependencies=self.dependencies, include_in_schema=False)
        return self._route

    async def respond(self, request: Request) -> Response:
        if not self.check_dir and not await run_in_threadpool(os.path.isdir, self.directory):
            raise RuntimeError(self._missing_dir())
        inner = self.inner_path(request.url.path) or ""
        rel = os.path.normpath(os.path.join(*inner.split("/"))) if inner else "."
        found = await run_in_threadpool(self._lookup, rel)
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(405 if found is not None else 404)
        if found is not None:
            full, st, is_index = found
            if is_index and not request.url.path.endswith("/"):
                base, mark, query = str(request.url).partition("?")
                return RedirectResponse(base + "/" + mark + query, status_code=307)
            return self.files.file_response(full, st, request.scope)
        for name, status in self._fallbacks(request):
            full, st = await run_in_threadpool(self._stat, name)
            if st is None or not stat.S_ISREG(st.st_mode):
                raise RuntimeError(self._missing_fallback(name))
            return FileResponse(full, status_code=status, stat_result=st)
        raise HTTPException(404)

    def _lookup(self, rel: str) -> tuple[str, os.stat_result, bool] | None:
        if rel.startswith(".."):
            return None
        full, st = self._stat(rel)
        if st is not None and stat.S_ISDIR(st.st_mode):
            full, st = self._stat(os.path.join(rel, "index.html"))
            return (full, st, True) if st is not None and stat.S_ISREG(st.st_mode) else None
        return (full, st, False) if st is not None and stat.S_ISREG(st.st_mode) else None

    def _fallbacks(self, request: Request) -> list[tuple[str, int]]:
        auto = self.fallback == "auto"
        if self.fallback == "404.html" or (auto and self._is_file("404.html")):
            return [("404.html", 404)]
        if self.fallback == "index.html" or (auto and self._is_file("index.html")):
            return [("index.html", 200)] if _is_navigation(request.headers.get("accept", "")) else []
        return []


def _is_navigation(accept: str) -> bool:
    """Whether the client asks for a page: text/html or application/xhtml+xml with q > 0."""
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() not in _PAGES:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    pass
        if quality != 0:
            return True
    return False


async def serve_frontend(frontends: Sequence[Frontend], request: Request, route_class: Any) -> Response:
    """The longest-prefix frontend's answer, or 404 when the path is under none."""
    path = request.url.path
    best = max((f for f in frontends if f.inner_path(path) is not None), key=lambda f: len(f.path), default=None)
    if best is None:
        raise HTTPException(404)
    return await best.route(route_class).serve(request)
