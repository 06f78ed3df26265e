"""Which exception handler answers an exception, and covet's default ones (FastAPI's bodies):
`{"detail": ...}` for an HTTP exception, the 422 list for invalid data.

The app's handlers are looked up by status first (an exception that carries one), then by class
along the exception's MRO; the defaults apply when the app has none.
"""

from __future__ import annotations

import asyncio
import http.client
import math
from collections.abc import Callable, Mapping
from typing import Any

from covet.exceptions import HTTPException, RequestValidationError
from covet.responses import JSONResponse, Response

__all__ = ["call_handler", "handler_for", "maybe_await"]

ExceptionHandler = Callable[[Any, Exception], Any]


def handler_for(handlers: Mapping[Any, ExceptionHandler], exc: Exception) -> ExceptionHandler | None:
    """The handler in `handlers` for `exc`, else covet's default one, else None."""
    status = _carried_status(exc)
    if status is not None and status in handlers:
        return handlers[status]
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:
            return handlers[cls]
    if isinstance(exc, HTTPException):
        return _http_exception_handler
    if status is not None:
        return _status_exception_handler
    if isinstance(exc, RequestValidationError):
        return _validation_error_handler
    return None


async def maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


async def call_handler(handler: ExceptionHandler, request: Any, exc: Exception) -> Response:
    return await maybe_await(handler(request, exc))  # type: ignore[no-any-return]


async def _http_exception_handler(request: Any, exc: HTTPException) -> Response:
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _carried_status(exc: Exception) -> int | None:
    """The HTTP status an exception stands for: covet's `HTTPException`, or any exception with
    an int `status_code` from 400 to 599, as Starlette's and FastAPI's `HTTPException` (raised
    by a mounted Starlette app, `StaticFiles`, or code written for them) carry."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    status = getattr(exc, "status_code", None)
    if type(status) is int and 400 <= status <= 599:
        return status
    return None


async def _status_exception_handler(request: Any, exc: Exception) -> Response:
    """Another framework's HTTP exception: its status with covet's `{"detail": ...}` body."""
    status: int = exc.status_code  # type: ignore[attr-defined]
    detail = getattr(exc, "detail", None)
    if detail is None:
        detail = http.client.responses.get(status, "")
    headers = getattr(exc, "headers", None)
    if not isinstance(headers, Mapping):
        headers = None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _validation_error_handler(request: Any, exc: RequestValidationError) -> Response:
    try:
        return JSONResponse({"detail": exc.errors()}, status_code=422)
    except ValueError:  # an `input` JSON cannot hold: `1e999` parses as inf
        return JSONResponse({"detail": _finite(exc.errors())}, status_code=422)


def _finite(value: Any) -> Any:
    """`value` with inf and NaN floats as the strings pydantic writes for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
