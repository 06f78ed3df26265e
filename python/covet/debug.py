"""The traceback page shown for a 500 when the app runs with `debug=True` (never otherwise)."""

from __future__ import annotations

import html
import traceback

from covet.requests import Request
from covet.responses import HTMLResponse, PlainTextResponse, Response

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;}}h1{{color:#b00020;}}
pre{{background:#f6f6f6;padding:1em;overflow:auto;border-left:4px solid #b00020;}}</style>
</head><body><h1>{title}</h1><p>{method} {path}</p><pre>{trace}</pre>
<p><small>This page is shown because the app runs with debug=True. Never enable it in
production.</small></p></body></html>"""


def debug_response(request: Request, exc: BaseException) -> Response:
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    title = f"500 Server Error: {type(exc).__name__}"
    if "text/html" in request.headers.get("accept", ""):
        page = _PAGE.format(
            title=html.escape(title),
            method=html.escape(request.method),
            path=html.escape(request.path),
            trace=html.escape(trace),
        )
        return HTMLResponse(page, status_code=500)
    return PlainTextResponse(trace, status_code=500)
