"""`JWTAuth`: the `JWT` manager as a FastAPI-style dependency.

`claims: dict = Depends(jwt_auth)` gives a route the verified claims of the request's bearer
token; anything else is a 401 with `WWW-Authenticate: Bearer` (RFC 6750) and a JSON body. It
documents itself in OpenAPI as an HTTP bearer scheme (`bearerFormat: JWT`), through the same
`SecurityBase` the other covet security schemes use."""

from __future__ import annotations

import json
import logging
from typing import Any

from covet.exceptions import HTTPException
from covet.jwt.errors import InvalidTokenError, RevokedTokenError
from covet.jwt.manager import JWT
from covet.logtext import printable
from covet.params import Security
from covet.requests import Request
from covet.responses import JSONResponse
from covet.security.base import SecurityBase, scheme_model
from covet.security.oauth2 import SecurityScopes
from covet.security.utils import get_authorization_scheme_param
from covet.status import HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN

__all__ = ["JWTAuth", "token_scopes"]

logger = logging.getLogger("covet.jwt")


def token_scopes(claims: dict[str, Any]) -> set[str]:
    """The scopes a token grants: `scope` (space-separated, RFC 8693) or a `scopes` list."""
    scope = claims.get("scope")
    scopes = set(scope.split()) if isinstance(scope, str) else set()
    listed = claims.get("scopes")
    if isinstance(listed, list):
        scopes.update(str(s) for s in listed)
    return scopes


# Fixed text, as the engine writes it: the reason can quote the token's own header (an unknown
# `kid`), and attacker text never goes into a response header (the JSON body has the reason).
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token", error_description="The access token is invalid"'


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class JWTAuth(JWT, SecurityBase):
    """A `JWT` manager that is also a security dependency (see the module docstring).

    With `Security(jwt_auth, scopes=[...])` or `jwt_auth.requires(...)`, tokens lacking a
    scope get 403 `insufficient_scope`. With `auto_error=False`, a request without a token
    gets `None` instead of a 401 (a token that is present but bad is still refused).

    On covet's own server, a route depending on it has its token verified by the Rust engine
    before any Python runs; a refused token never reaches the handler or other dependencies
    (docs/jwt.md, "Checked in the engine"). `engine_check=False` turns that off."""

    def __init__(
        self,
        *args: Any,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        engine_check: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # True: on covet's server the engine verifies the token before Python runs (see
        # covet.jwt.guard); False leaves the whole check to this dependency.
        self.engine_check = engine_check
        self.model = scheme_model(type="http", scheme="bearer", bearerFormat="JWT", description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def _unauthorized(self, detail: str, challenge: str = "Bearer") -> HTTPException:
        return HTTPException(HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge})

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> dict[str, Any] | None:
        claims = await self._claims(request)
        if claims is None:
            return None
        missing = [s for s in security_scopes.scopes if s not in token_scopes(claims)]
        if missing:
            needed = " ".join(security_scopes.scopes)
            logger.info("token of %r lacks scopes %s on %s", claims.get("sub"), missing, printable(request.url.path))
            raise HTTPException(
                HTTP_403_FORBIDDEN,
                detail=f"Missing scope: {' '.join(missing)}",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{_quoted(needed)}"'},
            )
        return claims

    async def _claims(self, request: Request) -> dict[str, Any] | None:
        """The verified claims of the request's token, or None (no token, `auto_error=False`).

        On covet's server the engine has usually verified the token already, before any Python
        ran (see covet.jwt.guard): its claims come with the request, and only revocation is
        checked here. Otherwise (under ASGI, or where the engine leaves the check to Python)
        the token is verified here, with the same keys and rules."""
        try:
            verified = request._raw.verified_claims(self._keys)
            if verified is not None:
                claims: dict[str, Any] = json.loads(verified)
                if await self.is_revoked(claims):
                    raise RevokedTokenError("token has been revoked", "revoked")
                return claims
            scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
            if not token or scheme.lower() != "bearer":
                if self.auto_error:
                    raise self._unauthorized("Not authenticated")
                return None
            return await self.verify(token)
        except InvalidTokenError as exc:
            path = printable(request.url.path)
            logger.info("refused bearer token on %s %s: %s (%s)", request.method, path, exc, exc.kind)
            raise self._unauthorized(f"Invalid token: {exc}", INVALID_TOKEN_CHALLENGE) from None

    def requires(self, *scopes: str) -> Any:
        """What a parameter that needs these scopes is declared with:
        `claims: Annotated[dict, jwt_auth.requires("admin")]` (or as its default value)."""
        return Security(self, scopes=list(scopes))

    async def jwks_endpoint(self) -> JSONResponse:
        """A route handler serving the public keys: `app.get("/.well-known/jwks.json")(jwt_auth.jwks_endpoint)`."""
        return JSONResponse(self.jwks(), headers={"Cache-Control": "public, max-age=300"})

    def add_jwks_route(self, app: Any, path: str = "/.well-known/jwks.json", **route_options: Any) -> None:
        """Serves the JWKS document on `app` (or a router) at `path`, out of the OpenAPI schema."""
        route_options.setdefault("include_in_schema", False)
        app.add_api_route(path, self.jwks_endpoint, methods=["GET"], **route_options)
