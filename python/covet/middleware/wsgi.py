"""`WSGIMiddleware`: a WSGI application (Flask, Django...) mounted in a covet app.

`app.mount("/legacy", WSGIMiddleware(flask_app))`. The WSGI app runs in the thread pool, one
call per request, with the request body read in full first (WSGI reads it synchronously from
`wsgi.input`); its response is sent as the app produces it, each chunk read in the thread pool.
The mount prefix is `SCRIPT_NAME`, the rest of the path `PATH_INFO`, as WSGI expects.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

from covet.concurrency import iterate_in_threadpool, run_in_threadpool

__all__ = ["WSGIMiddleware"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The WSGI environ for one ASGI HTTP scope (PEP 3333: str values hold latin-1 bytes)."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class WSGIMiddleware:
    def __init__(self, app: WSGIApp, workers: int = 10) -> None:
        self.app = app
        self.workers = workers  # Starlette's option; the shared thread pool bounds the threads

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http", "WSGIMiddleware serves HTTP requests only"
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        head: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
            if exc_info is not None and head.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            head["status"] = int(status.split(" ", 1)[0])
            head["headers"] = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            return lambda data: None  # the legacy write() callable; output goes through the iterable

        result = await run_in_threadpool(self.app, build_environ(scope, body), start_response)
        try:
            async for chunk in iterate_in_threadpool(iter(result)):
                if not head.get("sent"):
                    head["sent"] = True
                    await send({"type": "http.response.start", "status": head["status"], "headers": head["headers"]})
                if chunk:
                    await send({"type": "http.response.body", "body": bytes(chunk), "more_body": True})
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                await run_in_threadpool(close)
        if not head.get("sent"):
            await send({"type": "http.response.start", "status": head["status"], "headers": head["headers"]})
        await send({"type": "http.response.body", "body": b""})
