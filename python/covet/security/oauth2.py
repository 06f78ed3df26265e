"""OAuth2: the bearer-token schemes, the password-flow login form and `SecurityScopes`.

These only read the token from the request and document the flow in OpenAPI (so Swagger UI's
"Authorize" button works); verifying the token is the application's job (see `covet.jwt`).

No `from __future__ import annotations` here: the form's parameters are read from their
annotations by the dependency analysis, which then needs no module namespace to resolve them.
"""

from typing import Annotated, Any

from covet.exceptions import HTTPException
from covet.params import Form
from covet.requests import Request
from covet.security.base import SecurityBase, scheme_model
from covet.security.utils import get_authorization_scheme_param
from covet.status import HTTP_401_UNAUTHORIZED

__all__ = [
    "OAuth2",
    "OAuth2PasswordBearer",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "SecurityScopes",
]


class OAuth2PasswordRequestForm:
    """The login form of OAuth2's password flow, as a class dependency:
    `form: Annotated[OAuth2PasswordRequestForm, Depends()]`.

    Form fields `username`, `password`, optional `scope` (space-separated, exposed as the list
    `scopes`), `grant_type` (if sent, must be "password"), `client_id`, `client_secret`."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """The same form, with `grant_type=password` required as the OAuth2 spec says. Its OpenAPI
    schema marks no field `format: password` (FastAPI's strict form does not either)."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class OAuth2(SecurityBase):
    """Any OAuth2 flow (`flows` is OpenAPI's OAuth Flows Object); the dependency's value is
    the raw `Authorization` header."""

    def __init__(
        self,
        *,
        flows: dict[str, dict[str, Any]] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = scheme_model(type="oauth2", description=description, flows=_clean_flows(flows or {}))
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """401 with a `Bearer` challenge: OAuth2 access tokens are bearer tokens (RFC 6750)."""
        return HTTPException(
            status_code=HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization

    def _bearer_token(self, request: Request) -> str | None:
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "bearer":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return token


class OAuth2PasswordBearer(OAuth2):
    """The password flow: the client gets a token from `tokenUrl` and sends it as
    `Authorization: Bearer <token>`; the dependency's value is the token."""

    def __init__(
        self,
        tokenUrl: str,  # noqa: N803 - FastAPI's (and OpenAPI's) name
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,  # noqa: N803
    ) -> None:
        flows = {"password": {"tokenUrl": tokenUrl, "refreshUrl": refreshUrl, "scopes": scopes or {}}}
        super().__init__(flows=flows, scheme_name=scheme_name, description=description, auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self._bearer_token(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """The authorization-code flow; the dependency's value is the bearer token."""

    def __init__(
        self,
        authorizationUrl: str,  # noqa: N803 - FastAPI's (and OpenAPI's) name
        tokenUrl: str,  # noqa: N803
        refreshUrl: str | None = None,  # noqa: N803
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        flows = {
            "authorizationCode": {
                "authorizationUrl": authorizationUrl,
                "tokenUrl": tokenUrl,
                "refreshUrl": refreshUrl,
                "scopes": scopes or {},
            }
        }
        super().__init__(flows=flows, scheme_name=scheme_name, description=description, auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self._bearer_token(request)


class SecurityScopes:
    """Declare a parameter of this type in a dependency to receive every scope required by
    the `Security(..., scopes=[...])` declarations on the path from the endpoint down to it."""

    def __init__(self, scopes: list[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or [])
        self.scope_str: str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes(scopes={self.scopes!r})"


def _clean_flows(flows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: scheme_model(**flow) for name, flow in flows.items() if flow is not None}
