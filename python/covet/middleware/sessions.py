"""Where Starlette keeps it (`starlette.middleware.sessions`); the implementation is `covet.sessions`."""

from covet.sessions.middleware import SessionMiddleware

__all__ = ["SessionMiddleware"]
