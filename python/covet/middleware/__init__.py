"""Middleware declarations, as Starlette spells them.

`app.add_middleware(cls, **options)` and `Covet(middleware=[Middleware(cls, **options)])`
accept two kinds of class:

- request middleware, a subclass of `BaseHTTPMiddleware` (or any class built as
  `cls(app, **options)` with an `async dispatch(request, call_next)`), which runs in Python
  around the handler;
- engine middleware (CORS, security headers, trusted hosts, rate limits...), which covet
  compiles into its Rust engine so a request they answer never reaches Python.

As in Starlette, the middleware added last is the outermost: it sees the request first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from covet.requests import Request
from covet.responses import Response

__all__ = ["BaseHTTPMiddleware", "Middleware"]

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]


class Middleware:
    """A middleware class and the options to build it with, for `Covet(middleware=[...])`."""

    def __init__(self, cls: type[Any], *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Any:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        options = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Middleware({self.cls.__name__}{', ' if options else ''}{', '.join(options)})"


class BaseHTTPMiddleware:
    """Request middleware: override `dispatch`, or pass `dispatch=` a function.

    Unlike Starlette's class of the same name, no ASGI message passing happens between layers:
    `call_next` is the next layer's coroutine and returns covet's `Response` object.
    """

    def __init__(self, app: Any = None, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        if dispatch is not None:
            self.dispatch = dispatch  # type: ignore[method-assign]

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        raise NotImplementedError("BaseHTTPMiddleware subclasses override dispatch(request, call_next)")
