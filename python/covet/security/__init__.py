"""Security schemes with FastAPI's names: dependencies that read credentials from a request
and document themselves in OpenAPI (`components.securitySchemes`)."""

from covet.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from covet.security.base import SecurityBase
from covet.security.http import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from covet.security.oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    SecurityScopes,
)
from covet.security.open_id_connect_url import OpenIdConnect
from covet.security.utils import get_authorization_scheme_param

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "SecurityBase",
    "SecurityScopes",
    "get_authorization_scheme_param",
]
