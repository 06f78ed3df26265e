"""OpenAPI for covet apps: the document (`get_openapi`), the Swagger UI and ReDoc pages
(`covet.openapi.docs`) and the routes that serve them (`add_openapi_routes`)."""

from typing import TYPE_CHECKING

from covet.openapi.routes import add_openapi_routes

if TYPE_CHECKING:
    from covet.openapi.utils import get_openapi


def __getattr__(name: str) -> object:
    """`get_openapi` is imported on first use (the document is built on the first request
    for it), not by every app that serves /docs."""
    if name == "get_openapi":
        from covet.openapi.utils import get_openapi

        return get_openapi
    raise AttributeError(f"module 'covet.openapi' has no attribute {name!r}")


__all__ = ["add_openapi_routes", "get_openapi"]
