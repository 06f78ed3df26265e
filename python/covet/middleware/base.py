"""Starlette's `middleware.base` module name: request middleware, defined in `covet.middleware`."""

from covet.middleware import BaseHTTPMiddleware, CallNext, DispatchFunction

RequestResponseEndpoint = CallNext

__all__ = ["BaseHTTPMiddleware", "DispatchFunction", "RequestResponseEndpoint"]
