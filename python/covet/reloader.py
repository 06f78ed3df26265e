"""`covet dev` / `covet run --reload`: the supervisor watches the app's files (watchfiles) and
restarts its worker on a change the way SIGHUP does, the new worker first and the old one
drained after, so the port never stops taking connections. A worker whose app fails to import
serves the error as a page until the next change fixes it."""

from __future__ import annotations

import fnmatch
import html
import logging
import os
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from covet.applications import Covet
from covet.requests import Request
from covet.responses import HTMLResponse, PlainTextResponse

logger = logging.getLogger("covet.reloader")

__all__ = ["DEFAULT_INCLUDE", "start_watching", "import_error_app"]

# What a change to restarts for: code, templates, static assets, settings files.
DEFAULT_INCLUDE = (
    "*.py",
    "*.html",
    "*.jinja",
    "*.jinja2",
    "*.css",
    "*.js",
    "*.json",
    "*.toml",
    "*.yaml",
    "*.yml",
    ".env",
)


class _Filter:
    def __init__(self, include: Sequence[str], exclude: Sequence[str]) -> None:
        from watchfiles import DefaultFilter

        self.default = DefaultFilter()  # .git, __pycache__, virtual environments, editors' files
        self.include = tuple(include)
        self.exclude = tuple(exclude)

    def __call__(self, change: Any, path: str) -> bool:
        name = os.path.basename(path)
        if not self.default(change, path):
            return False
        if any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in self.exclude):
            return False
        return any(fnmatch.fnmatch(name, p) for p in self.include)


def start_watching(
    paths: Sequence[str], include: Sequence[str], exclude: Sequence[str], on_change: Callable[[list[str]], None]
) -> threading.Event:
    """Watches `paths` in a daemon thread and calls `on_change(changed_paths)` per batch of
    changes; set the returned event to stop."""
    from watchfiles import watch

    stop = threading.Event()
    watch_filter = _Filter(include or DEFAULT_INCLUDE, exclude)

    def run() -> None:
        for changes in watch(*paths, watch_filter=watch_filter, stop_event=stop, debounce=50, step=20):
            on_change(sorted({path for _, path in changes}))

    threading.Thread(target=run, name="covet-reloader", daemon=True).start()
    logger.info("Watching %s for changes", ", ".join(str(Path(p).resolve()) for p in paths))
    return stop


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>covet dev: {title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}h1{{color:#b00020}}
pre{{background:#f6f6f6;padding:1em;overflow:auto;border-left:4px solid #b00020}}</style></head>
<body><h1>{title}</h1><p>The app <code>{spec}</code> could not be loaded. Fix the code and save:
covet dev restarts on the change.</p><pre>{trace}</pre></body></html>"""


def import_error_app(spec: str, exc: BaseException) -> Covet:
    """An app answering every request with the import error (500, a page in browsers, the
    traceback as text otherwise), for `covet dev` to serve until the code is fixed."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    title = f"{type(exc).__name__}: {exc}"
    app = Covet(openapi_url=None, docs_url=None, redoc_url=None)

    @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def failed(request: Request) -> Any:
        if "text/html" in request.headers.get("accept", ""):
            page = _PAGE.format(title=html.escape(title), spec=html.escape(spec), trace=html.escape(trace))
            return HTMLResponse(page, status_code=500)
        return PlainTextResponse(f"covet dev: {spec} could not be loaded\n\n{trace}", status_code=500)

    return app
