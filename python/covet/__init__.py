"""covet: FastAPI-style Python web framework on a Rust engine."""

from typing import TYPE_CHECKING

from covet import status
from covet.applications import Covet
from covet.background import BackgroundTasks
from covet.datastructures import FormData, UploadFile
from covet.exceptions import HTTPException, RequestValidationError, ResponseValidationError
from covet.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from covet.requests import Request
from covet.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from covet.routing import APIRouter
from covet.sse import EventSourceResponse, ServerSentEvent
from covet.websockets import WebSocket, WebSocketDisconnect, WebSocketException

if TYPE_CHECKING:
    from covet.settings import Settings

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`covet.Settings` is imported on first use: pydantic-settings and the model it builds
    cost a worker ~15 MiB of resident memory, paid only by apps that read settings."""
    if name == "Settings":
        from covet.settings import Settings

        return Settings
    raise AttributeError(f"module 'covet' has no attribute {name!r}")


def run(app: "Covet | str", host: str = "127.0.0.1", port: int = 8000, **options: object) -> int:
    """Serves `app` from covet's engine in this process: `covet.run(app)` or
    `covet.run("module:app")`, as `uvicorn.run` users expect (see `covet.server.run`)."""
    from covet.server import run as serve_in_process

    return serve_in_process(app, host, port, **options)  # type: ignore[arg-type]


__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Covet",
    "Depends",
    "EventSourceResponse",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "JSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "ResponseValidationError",
    "Security",
    "ServerSentEvent",
    "Settings",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "run",
    "status",
]
