"""OpenAPI objects as pydantic models, under FastAPI's `openapi.models` names.

covet builds its OpenAPI document as plain dicts; these models are for code that builds or
checks pieces of a document itself (a custom security scheme's `flows`, a schema, an example).
Each accepts the specification's extension fields (`x-...`) and any field it does not name,
so a model never drops part of what it is given; `model_dump(by_alias=True,
exclude_none=True)` gives the JSON form.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "APIKey",
    "APIKeyIn",
    "Contact",
    "Example",
    "ExternalDocumentation",
    "HTTPBase",
    "HTTPBearer",
    "Info",
    "License",
    "OAuth2",
    "OAuthFlow",
    "OAuthFlowAuthorizationCode",
    "OAuthFlowClientCredentials",
    "OAuthFlowImplicit",
    "OAuthFlowPassword",
    "OAuthFlows",
    "OpenIdConnect",
    "Reference",
    "Schema",
    "SchemaType",
    "SecurityBase",
    "SecuritySchemeType",
    "Server",
    "ServerVariable",
    "Tag",
]

SchemaType = Literal["array", "boolean", "integer", "null", "number", "object", "string"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Contact(_Open):
    name: str | None = None
    url: str | None = None
    email: str | None = None


class License(_Open):
    name: str
    identifier: str | None = None
    url: str | None = None


class Info(_Open):
    title: str
    summary: str | None = None
    description: str | None = None
    termsOfService: str | None = None  # noqa: N815 - the specification's name
    contact: Contact | None = None
    license: License | None = None
    version: str


class ServerVariable(_Open):
    enum: list[str] | None = None
    default: str
    description: str | None = None


class Server(_Open):
    url: str
    description: str | None = None
    variables: dict[str, ServerVariable] | None = None


class ExternalDocumentation(_Open):
    description: str | None = None
    url: str


class Tag(_Open):
    name: str
    description: str | None = None
    externalDocs: ExternalDocumentation | None = None  # noqa: N815


class Reference(BaseModel):
    ref: str = Field(alias="$ref")


class Example(_Open):
    summary: str | None = None
    description: str | None = None
    value: Any | None = None
    externalValue: str | None = None  # noqa: N815


class Schema(_Open):
    """A JSON Schema (2020-12, as OpenAPI 3.1): the common keywords typed, the rest kept."""

    ref: str | None = Field(default=None, alias="$ref")
    title: str | None = None
    type: SchemaType | list[SchemaType] | None = None
    format: str | None = None
    description: str | None = None
    default: Any | None = None
    enum: list[Any] | None = None
    const: Any | None = None
    items: Schema | bool | None = None
    properties: dict[str, Schema | bool] | None = None
    required: list[str] | None = None
    additionalProperties: Schema | bool | None = None  # noqa: N815
    allOf: list[Schema | bool] | None = None  # noqa: N815
    anyOf: list[Schema | bool] | None = None  # noqa: N815
    oneOf: list[Schema | bool] | None = None  # noqa: N815
    examples: list[Any] | None = None
    deprecated: bool | None = None
    readOnly: bool | None = None  # noqa: N815
    writeOnly: bool | None = None  # noqa: N815


class SecuritySchemeType(Enum):
    apiKey = "apiKey"  # noqa: N815
    http = "http"
    oauth2 = "oauth2"
    openIdConnect = "openIdConnect"  # noqa: N815


class SecurityBase(_Open):
    type_: SecuritySchemeType = Field(alias="type")
    description: str | None = None


class APIKeyIn(Enum):
    query = "query"
    header = "header"
    cookie = "cookie"


class APIKey(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.apiKey, alias="type")
    in_: APIKeyIn = Field(alias="in")
    name: str


class HTTPBase(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.http, alias="type")
    scheme: str


class HTTPBearer(HTTPBase):
    scheme: Literal["bearer"] = "bearer"
    bearerFormat: str | None = None  # noqa: N815


class OAuthFlow(_Open):
    refreshUrl: str | None = None  # noqa: N815
    scopes: dict[str, str] = {}


class OAuthFlowImplicit(OAuthFlow):
    authorizationUrl: str  # noqa: N815


class OAuthFlowPassword(OAuthFlow):
    tokenUrl: str  # noqa: N815


class OAuthFlowClientCredentials(OAuthFlow):
    tokenUrl: str  # noqa: N815


class OAuthFlowAuthorizationCode(OAuthFlow):
    authorizationUrl: str  # noqa: N815
    tokenUrl: str  # noqa: N815


class OAuthFlows(_Open):
    implicit: OAuthFlowImplicit | None = None
    password: OAuthFlowPassword | None = None
    clientCredentials: OAuthFlowClientCredentials | None = None  # noqa: N815
    authorizationCode: OAuthFlowAuthorizationCode | None = None  # noqa: N815


class OAuth2(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.oauth2, alias="type")
    flows: OAuthFlows


class OpenIdConnect(SecurityBase):
    type_: SecuritySchemeType = Field(default=SecuritySchemeType.openIdConnect, alias="type")
    openIdConnectUrl: str  # noqa: N815
