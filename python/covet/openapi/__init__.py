"""OpenAPI for covet apps: the document (`get_openapi`), the Swagger UI and ReDoc pages
(`covet.openapi.docs`) and the routes that serve them (`add_openapi_routes`)."""

from covet.openapi.routes import add_openapi_routes
from covet.openapi.utils import get_openapi

__all__ = ["add_openapi_routes", "get_openapi"]
