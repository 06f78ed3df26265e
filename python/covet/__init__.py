"""covet: FastAPI-style Python web framework on a Rust HTTP engine."""

from covet.applications import Covet
from covet.background import BackgroundTasks
from covet.exceptions import HTTPException, RequestValidationError
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

__version__ = "0.1.0"

__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Covet",
    "FileResponse",
    "HTMLResponse",
    "HTTPException",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "StreamingResponse",
]
