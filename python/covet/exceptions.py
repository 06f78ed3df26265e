"""Exceptions a handler raises to answer with an HTTP error."""

from __future__ import annotations

import http
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["HTTPException"]


class HTTPException(Exception):
    """Answers `status_code` with `{"detail": detail}` (and `headers`), as in FastAPI."""

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = http.HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ServiceUnavailable(HTTPException):
    """503 with `Retry-After`: a backend the request needs (Redis, a database) is down or busy.
    Answered as JSON without a traceback, from a handler, a dependency or a middleware."""

    def __init__(self, detail: Any = None, retry_after: int = 1) -> None:
        super().__init__(503, detail, {"Retry-After": str(max(1, retry_after))})


__all__ += ["ServiceUnavailable"]


class ValidationException(Exception):
    """Data that did not validate, with pydantic's errors in FastAPI's shape. `endpoint_ctx`
    ({"function", "file", "line", "path"}, any of them) says which endpoint refused it, so a
    logged error names the handler, as FastAPI's do."""

    def __init__(
        self, errors: list[dict[str, Any]], *, body: Any = None, endpoint_ctx: dict[str, Any] | None = None
    ) -> None:
        super().__init__(errors)
        self._errors = errors
        self.body = body
        self.endpoint_ctx = endpoint_ctx
        ctx = endpoint_ctx or {}
        self.endpoint_function = ctx.get("function")
        self.endpoint_path = ctx.get("path")
        self.endpoint_file = ctx.get("file")
        self.endpoint_line = ctx.get("line")

    def errors(self) -> list[dict[str, Any]]:
        return self._errors

    def __str__(self) -> str:
        count = len(self._errors)
        lines = [f"{count} validation error{'s' if count != 1 else ''}:", *(f"  {e}" for e in self._errors)]
        return "\n".join(lines) + self._endpoint_text()

    def _endpoint_text(self) -> str:
        if self.endpoint_file and self.endpoint_line and self.endpoint_function:
            where = f'\n  File "{self.endpoint_file}", line {self.endpoint_line}, in {self.endpoint_function}'
            return where + (f"\n    {self.endpoint_path}" if self.endpoint_path else "")
        return f"\n  Endpoint: {self.endpoint_path}" if self.endpoint_path else ""


class RequestValidationError(ValidationException):
    """Request data did not validate: answered 422 with FastAPI's `{"detail": [...]}` body."""


class ResponseValidationError(ValidationException):
    """A handler's return value did not match its response model: a bug on the server (500)."""

    def __str__(self) -> str:
        text = f"{len(self._errors)} validation error(s) for the response: {self._errors}"
        return text + self._endpoint_text()


__all__ += ["ValidationException", "RequestValidationError", "ResponseValidationError"]


class WebSocketRequestValidationError(ValidationException):
    """A WebSocket endpoint's parameters did not validate (FastAPI's name). Unless an
    exception handler is registered for it, the handshake is refused with close code 1008."""


class InvalidResponseHeader(ValueError):
    """A response header the engine refused to write (a name that is not a token, a value with
    CR, LF or NUL). Raised before any byte of the response is sent: covet answers 500 instead
    and logs one line naming the header."""


__all__ += ["InvalidResponseHeader"]


class InvalidJSONBody(HTTPException, json.JSONDecodeError):
    """`await request.json()` on a body that is not JSON: answered 400 `{"detail": ...}`, never
    500. Also a `json.JSONDecodeError`, so code written for Starlette that catches that (or
    `ValueError`) around `request.json()` keeps working."""

    def __init__(self, reason: str, doc: str = "", pos: int = 0) -> None:
        json.JSONDecodeError.__init__(self, reason, doc, pos)
        self.status_code = 400
        self.detail = f"Invalid JSON body: {reason}"
        self.headers = None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"


__all__ += ["InvalidJSONBody"]


class FastAPIError(RuntimeError):
    """An app declares something that cannot be served (raised while the app is built, not per
    request). FastAPI's name, kept so that `except FastAPIError` in ported code still catches."""


class DependencyScopeError(FastAPIError):
    """A dependency's declared clean-up scope cannot hold (e.g. a request-scoped one below a
    function-scoped one)."""


class PydanticV1NotSupportedError(FastAPIError):
    """A `pydantic.v1` model used as a parameter or response type: only pydantic 2 models are
    validated, so the app is refused at start-up rather than failing per request."""


class FastAPIDeprecationWarning(UserWarning):
    """Warns about an API kept for ported code but on its way out (FastAPI's category, so that
    warning filters written for FastAPI keep working)."""


__all__ += ["FastAPIError", "DependencyScopeError", "PydanticV1NotSupportedError", "FastAPIDeprecationWarning"]


class StarletteDeprecationWarning(UserWarning):
    """Starlette's deprecation category, so that filters written for it keep working."""


__all__ += ["StarletteDeprecationWarning"]


class WebSocketException(Exception):
    """Raise it in a WebSocket endpoint (or dependency) to close with `code` and `reason`
    (before `accept`, the handshake is refused with 403)."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


__all__ += ["WebSocketException"]  # also exported by covet.websockets, where Starlette has it


class InvalidParameter(AssertionError, ValueError):
    """A parameter declaration the request cannot fill. FastAPI raises AssertionError here;
    covet's other declaration errors are ValueErrors: this is both, so either `except` works.
    Raised by covet.params and covet.dependencies.declarations (defined here, which both import)."""
