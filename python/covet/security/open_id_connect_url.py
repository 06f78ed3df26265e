"""OpenID Connect discovery: documents the provider's discovery URL; reads the raw header."""

from __future__ import annotations

from covet.exceptions import HTTPException
from covet.requests import Request
from covet.security.base import SecurityBase, scheme_model
from covet.status import HTTP_401_UNAUTHORIZED

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """`openIdConnectUrl` is the provider's `.well-known/openid-configuration`; the dependency's
    value is the raw `Authorization` header, left to the application to verify."""

    def __init__(
        self,
        *,
        openIdConnectUrl: str,  # noqa: N803 - FastAPI's (and OpenAPI's) name
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = scheme_model(type="openIdConnect", description=description, openIdConnectUrl=openIdConnectUrl)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            if self.auto_error:
                raise HTTPException(
                    status_code=HTTP_401_UNAUTHORIZED,
                    detail="Not authenticated",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return None
        return authorization
