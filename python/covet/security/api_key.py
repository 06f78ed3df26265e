"""API keys read from a query parameter, a header or a cookie."""

from __future__ import annotations

from covet.exceptions import HTTPException
from covet.requests import Request
from covet.security.base import SecurityBase, scheme_model
from covet.status import HTTP_401_UNAUTHORIZED

__all__ = ["APIKeyBase", "APIKeyQuery", "APIKeyHeader", "APIKeyCookie"]


class APIKeyBase(SecurityBase):
    """An API key named `name`, found `in` one part of the request."""

    location = "query"

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = scheme_model(type="apiKey", description=description, **{"in": self.location}, name=name)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """401 with a challenge. No standard challenge exists for API keys; FastAPI sends
        `APIKey`, so clients written against it see the same response."""
        return HTTPException(
            status_code=HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "APIKey"},
        )

    def check_api_key(self, api_key: str | None) -> str | None:
        if not api_key:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return api_key


class APIKeyQuery(APIKeyBase):
    """`?name=key` in the query string."""

    location = "query"

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.query_params.get(self.model["name"]))


class APIKeyHeader(APIKeyBase):
    """A `name: key` request header."""

    location = "header"

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.headers.get(self.model["name"]))


class APIKeyCookie(APIKeyBase):
    """A cookie called `name`."""

    location = "cookie"

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.cookies.get(self.model["name"]))
