"""A plain WSGI application mounted with WSGIMiddleware, for tests/test_wsgi.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from covet import Covet
from covet.middleware.wsgi import WSGIMiddleware


def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    if environ["PATH_INFO"] == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (f"part{i};".encode() for i in range(3))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {
        "method": environ["REQUEST_METHOD"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "header": environ.get("HTTP_X_THING"),
        "body": environ["wsgi.input"].read(length).decode(),
    }
    start_response("201 Created", [("Content-Type", "application/json"), ("X-Legacy", "yes")])
    return [json.dumps(seen).encode()]


app = Covet()


@app.get("/api")
def api() -> str:
    return "covet"


app.mount("/legacy", WSGIMiddleware(legacy))
