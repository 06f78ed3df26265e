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
    "Components",
    "Discriminator",
    "Encoding",
    "Header",
    "Link",
    "MediaType",
    "OpenAPI",
    "Operation",
    "Parameter",
    "ParameterInType",
    "PathItem",
    "RequestBody",
    "Response",
    "XML",
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
    "ParameterBase",
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


# --- the document: operations, parameters, bodies, responses -----------------------------------


class Discriminator(_Open):
    propertyName: str  # noqa: N815
    mapping: dict[str, str] | None = None


class XML(_Open):
    name: str | None = None
    namespace: str | None = None
    prefix: str | None = None
    attribute: bool | None = None
    wrapped: bool | None = None


class ParameterInType(Enum):
    query = "query"
    header = "header"
    path = "path"
    cookie = "cookie"


class Encoding(_Open):
    contentType: str | None = None  # noqa: N815
    headers: dict[str, Any] | None = None
    style: str | None = None
    explode: bool | None = None
    allowReserved: bool | None = None  # noqa: N815


class MediaType(_Open):
    schema_: Schema | Reference | None = Field(default=None, alias="schema")
    example: Any | None = None
    examples: dict[str, Example | Reference] | None = None
    encoding: dict[str, Encoding] | None = None


class ParameterBase(_Open):
    description: str | None = None
    required: bool | None = None
    deprecated: bool | None = None
    style: str | None = None
    explode: bool | None = None
    allowReserved: bool | None = None  # noqa: N815
    schema_: Schema | Reference | None = Field(default=None, alias="schema")
    example: Any | None = None
    examples: dict[str, Example | Reference] | None = None
    content: dict[str, MediaType] | None = None


class Parameter(ParameterBase):
    name: str
    in_: ParameterInType = Field(alias="in")


class Header(ParameterBase):
    pass


class RequestBody(_Open):
    description: str | None = None
    content: dict[str, MediaType]
    required: bool | None = None


class Link(_Open):
    operationRef: str | None = None  # noqa: N815
    operationId: str | None = None  # noqa: N815
    parameters: dict[str, Any] | None = None
    requestBody: Any | None = None  # noqa: N815
    description: str | None = None
    server: Server | None = None


class Response(_Open):
    description: str
    headers: dict[str, Header | Reference] | None = None
    content: dict[str, MediaType] | None = None
    links: dict[str, Link | Reference] | None = None


class Operation(_Open):
    tags: list[str] | None = None
    summary: str | None = None
    description: str | None = None
    externalDocs: ExternalDocumentation | None = None  # noqa: N815
    operationId: str | None = None  # noqa: N815
    parameters: list[Parameter | Reference] | None = None
    requestBody: RequestBody | Reference | None = None  # noqa: N815
    responses: dict[str, Response | Any] | None = None
    callbacks: dict[str, dict[str, PathItem] | Reference] | None = None
    deprecated: bool | None = None
    security: list[dict[str, list[str]]] | None = None
    servers: list[Server] | None = None


class PathItem(_Open):
    ref: str | None = Field(default=None, alias="$ref")
    summary: str | None = None
    description: str | None = None
    get: Operation | None = None
    put: Operation | None = None
    post: Operation | None = None
    delete: Operation | None = None
    options: Operation | None = None
    head: Operation | None = None
    patch: Operation | None = None
    trace: Operation | None = None
    servers: list[Server] | None = None
    parameters: list[Parameter | Reference] | None = None


class Components(_Open):
    schemas: dict[str, Schema | Reference] | None = None
    responses: dict[str, Response | Reference] | None = None
    parameters: dict[str, Parameter | Reference] | None = None
    examples: dict[str, Example | Reference] | None = None
    requestBodies: dict[str, RequestBody | Reference] | None = None  # noqa: N815
    headers: dict[str, Header | Reference] | None = None
    securitySchemes: dict[str, Any] | None = None  # noqa: N815
    links: dict[str, Link | Reference] | None = None
    callbacks: dict[str, dict[str, PathItem] | Reference | Any] | None = None
    pathItems: dict[str, PathItem | Reference] | None = None  # noqa: N815


class OpenAPI(_Open):
    """A whole document: `OpenAPI.model_validate(app.openapi())` checks covet's output's shape."""

    openapi: str
    info: Info
    jsonSchemaDialect: str | None = None  # noqa: N815
    servers: list[Server] | None = None
    paths: dict[str, PathItem | Any] | None = None
    webhooks: dict[str, PathItem | Reference] | None = None
    components: Components | None = None
    security: list[dict[str, list[str]]] | None = None
    tags: list[Tag] | None = None
    externalDocs: ExternalDocumentation | None = None  # noqa: N815


Operation.model_rebuild()
