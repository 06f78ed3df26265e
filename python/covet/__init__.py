"""covet: FastAPI-style Python web framework on a Rust engine."""

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

__version__ = "0.1.0"

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
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
]
