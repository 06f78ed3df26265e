"""The OpenAPI document and the documentation pages.

Expected documents are what FastAPI emits for the same app (checked against FastAPI 0.165 with
pydantic 2.14), so a ported app's Swagger UI, ReDoc and generated clients stay the same.
Endpoints here have no return annotation on purpose: as in FastAPI, one would become the
route's response_model and change the documented 200 schema.
"""

# No `from __future__ import annotations`: endpoints below use local names (models, schemes)
# in their annotations, which must be evaluated where they are defined.

from enum import Enum
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, computed_field

from covet import Covet, Depends, Security
from covet.exceptions import FastAPIDeprecationWarning
from covet.openapi.utils import get_openapi
from covet.params import Body, Cookie, Form, Header, Path, Query
from covet.responses import HTMLResponse, PlainTextResponse, Response
from covet.security import HTTPBasic, OAuth2AuthorizationCodeBearer, OAuth2PasswordBearer
from covet.testclient import TestClient

OK = {"description": "Successful Response", "content": {"application/json": {"schema": {}}}}
UNPROCESSABLE = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
}
VALIDATION_SCHEMAS = {
    "HTTPValidationError": {
        "properties": {
            "detail": {"items": {"$ref": "#/components/schemas/ValidationError"}, "type": "array", "title": "Detail"}
        },
        "type": "object",
        "title": "HTTPValidationError",
    },
    "ValidationError": {
        "properties": {
            "loc": {
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "type": "array",
                "title": "Location",
            },
            "msg": {"type": "string", "title": "Message"},
            "type": {"type": "string", "title": "Error Type"},
            "input": {"title": "Input"},
            "ctx": {"type": "object", "title": "Context"},
        },
        "type": "object",
        "required": ["loc", "msg", "type"],
        "title": "ValidationError",
    },
}
ITEM_SCHEMA = {
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "price": {"type": "number", "exclusiveMinimum": 0, "title": "Price", "description": "Price"},
        "tags": {"items": {"type": "string"}, "type": "array", "title": "Tags", "default": []},
    },
    "type": "object",
    "required": ["name", "price"],
    "title": "Item",
}


class Item(BaseModel):
    name: str
    price: float = Field(gt=0, description="Price")
    tags: list[str] = []


class User(BaseModel):
    username: str


def document(app: Covet) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_plain_get_whole_document() -> None:
    app = Covet(title="Shop", version="2.0")

    @app.get("/")
    def root():
        return {}

    assert document(app) == {
        "openapi": "3.1.0",
        "info": {"title": "Shop", "version": "2.0"},
        "paths": {"/": {"get": {"summary": "Root", "operationId": "root__get", "responses": {"200": OK}}}},
    }


def test_info_servers_and_tags() -> None:
    app = Covet(
        title="T",
        version="1",
        summary="S",
        description="D",
        terms_of_service="http://t",
        contact={"name": "me"},
        license_info={"name": "MIT"},
        openapi_tags=[{"name": "a", "description": "A"}],
        servers=[{"url": "/api"}],
    )
    doc = app.openapi()
    assert doc["info"] == {
        "title": "T",
        "summary": "S",
        "description": "D",
        "termsOfService": "http://t",
        "contact": {"name": "me"},
        "license": {"name": "MIT"},
        "version": "1",
    }
    assert doc["servers"] == [{"url": "/api"}]
    assert doc["tags"] == [{"name": "a", "description": "A"}]


def test_parameters_with_constraints_and_descriptions() -> None:
    app = Covet()

    @app.get("/items/{item_id:int}")
    def read_item(
        item_id: Annotated[int, Path(ge=1, title="The ID", description="id desc")],
        q: Annotated[str | None, Query(max_length=50, alias="item-query", deprecated=True, examples=["x"])] = None,
        user_agent: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
        ids: Annotated[list[int], Query()] = [],  # noqa: B006 - FastAPI style
        flag: bool = False,
        hidden: Annotated[str | None, Query(include_in_schema=False)] = None,
    ):
        return {}

    op = document(app)["paths"]["/items/{item_id}"]["get"]
    assert op["operationId"] == "read_item_items__item_id__get"
    assert op["parameters"] == [
        {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "title": "The ID", "description": "id desc"},
            "description": "id desc",
        },
        {
            "name": "item-query",
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}],
                "deprecated": True,
                "examples": ["x"],
                "title": "Item-Query",
            },
            "deprecated": True,
        },
        {
            "name": "ids",
            "in": "query",
            "required": False,
            "schema": {"type": "array", "items": {"type": "integer"}, "default": [], "title": "Ids"},
        },
        {
            "name": "flag",
            "in": "query",
            "required": False,
            "schema": {"type": "boolean", "default": False, "title": "Flag"},
        },
        {
            "name": "user-agent",
            "in": "header",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "User-Agent"},
        },
        {
            "name": "session",
            "in": "cookie",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Session"},
        },
    ]
    assert op["responses"] == {"200": OK, "422": UNPROCESSABLE}


def test_query_model_is_one_parameter_per_field() -> None:
    class Filters(BaseModel):
        limit: int = Field(100, gt=0, le=100)
        order: str = "asc"

    app = Covet()

    @app.get("/qm")
    def qm(f: Annotated[Filters, Query()]):
        return {}

    assert document(app)["paths"]["/qm"]["get"]["parameters"] == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "maximum": 100, "exclusiveMinimum": 0, "default": 100, "title": "Limit"},
        },
        {
            "name": "order",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "default": "asc", "title": "Order"},
        },
    ]


def test_model_body_and_response_model() -> None:
    app = Covet()

    @app.post(
        "/items/",
        response_model=Item,
        status_code=201,
        operation_id="create_it",
        responses={404: {"description": "Not found", "model": User}, "5XX": {"description": "err"}, 400: {}},
    )
    def create(item: Item):
        return item

    doc = document(app)
    op = doc["paths"]["/items/"]["post"]
    assert op["operationId"] == "create_it"
    assert op["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "required": True,
    }
    assert op["responses"] == {
        "201": {
            "description": "Successful Response",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        },
        "404": {
            "description": "Not found",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
        },
        "5XX": {"description": "err"},
        "400": {"description": "Bad Request"},
        "422": UNPROCESSABLE,
    }
    assert doc["components"]["schemas"] == {
        **VALIDATION_SCHEMAS,
        "Item": ITEM_SCHEMA,
        "User": {
            "properties": {"username": {"type": "string", "title": "Username"}},
            "type": "object",
            "required": ["username"],
            "title": "User",
        },
    }
    assert list(doc["components"]["schemas"]) == sorted(doc["components"]["schemas"])


def test_list_response_model_gets_a_title() -> None:
    app = Covet()

    @app.get("/list", response_model=list[User])
    def lst():
        return []

    assert document(app)["paths"]["/list"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "items": {"$ref": "#/components/schemas/User"},
        "type": "array",
        "title": "Response Lst List Get",
    }


def test_embedded_and_several_bodies() -> None:
    app = Covet()

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, user: User, importance: Annotated[int, Body(gt=0)]):
        return {}

    @app.put("/embed")
    def embed(item: Annotated[Item, Body(embed=True)]):
        return {}

    doc = document(app)
    assert doc["paths"]["/items/{item_id}"]["put"]["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body_update_items__item_id__put"}}},
        "required": True,
    }
    assert doc["paths"]["/embed"]["put"]["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body_embed_embed_put"}}},
        "required": True,
    }
    schemas = doc["components"]["schemas"]
    assert schemas["Body_update_items__item_id__put"] == {
        "properties": {
            "item": {"$ref": "#/components/schemas/Item"},
            "user": {"$ref": "#/components/schemas/User"},
            "importance": {"type": "integer", "exclusiveMinimum": 0, "title": "Importance"},
        },
        "type": "object",
        "required": ["item", "user", "importance"],
        "title": "Body_update_items__item_id__put",
    }
    assert schemas["Body_embed_embed_put"] == {
        "properties": {"item": {"$ref": "#/components/schemas/Item"}},
        "type": "object",
        "required": ["item"],
        "title": "Body_embed_embed_put",
    }


def test_single_scalar_body_and_optional_body() -> None:
    app = Covet()

    @app.post("/lone")
    def lone(x: Annotated[int, Body(description="xx", examples=[3])]):
        return {}

    @app.post("/loneopt")
    def loneopt(x: Annotated[User | None, Body()] = None):
        return {}

    paths = document(app)["paths"]
    assert paths["/lone"]["post"]["requestBody"] == {
        "content": {
            "application/json": {"schema": {"type": "integer", "title": "X", "description": "xx", "examples": [3]}}
        },
        "required": True,
    }
    assert paths["/loneopt"]["post"]["requestBody"] == {
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"$ref": "#/components/schemas/User"}, {"type": "null"}], "title": "X"}
            }
        }
    }


def test_form_body() -> None:
    app = Covet()

    @app.post("/login")
    def login(username: Annotated[str, Form()], password: Annotated[str, Form()]):
        return {}

    doc = document(app)
    assert doc["paths"]["/login"]["post"]["requestBody"] == {
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Body_login_login_post"}}
        },
        "required": True,
    }
    assert doc["components"]["schemas"]["Body_login_login_post"] == {
        "properties": {
            "username": {"type": "string", "title": "Username"},
            "password": {"type": "string", "title": "Password"},
        },
        "type": "object",
        "required": ["username", "password"],
        "title": "Body_login_login_post",
    }


class Tags(Enum):
    items = "items"


def test_operation_metadata() -> None:
    app = Covet()

    @app.get(
        "/meta",
        tags=["a", Tags.items],
        summary="Get it",
        deprecated=True,
        operation_id="getIt",
        response_description="The thing",
    )
    def meta():
        """Read a thing.

        More text.
        \f
        Not for the docs."""
        return {}

    @app.get("/explicit", description="Explicit.")
    def explicit():
        """Docstring ignored."""
        return {}

    paths = document(app)["paths"]
    assert paths["/meta"]["get"] == {
        "tags": ["a", "items"],
        "summary": "Get it",
        "description": "Read a thing.\n\nMore text.\n",
        "operationId": "getIt",
        "deprecated": True,
        "responses": {"200": {"description": "The thing", "content": {"application/json": {"schema": {}}}}},
    }
    assert paths["/explicit"]["get"]["description"] == "Explicit."


def test_response_classes_status_codes_and_methods() -> None:
    app = Covet()

    @app.get("/html", response_class=HTMLResponse)
    def html():
        return ""

    @app.get("/text", response_class=PlainTextResponse, responses={200: {"description": "override"}})
    def text():
        return ""

    @app.delete("/gone", status_code=204)
    def gone():
        return None

    @app.api_route("/multi", methods=["GET", "POST"])
    def multi():
        return {}

    paths = document(app)["paths"]
    assert paths["/html"]["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert paths["/text"]["get"]["responses"]["200"] == {
        "description": "override",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    assert paths["/gone"]["delete"]["responses"] == {"204": {"description": "Successful Response"}}
    assert set(paths["/multi"]) == {"get", "post"}  # HEAD is not documented
    assert paths["/multi"]["get"]["operationId"] == "multi_multi_get"
    assert paths["/multi"]["post"]["operationId"] == "multi_multi_post"


def test_openapi_extra_and_include_in_schema() -> None:
    app = Covet()

    @app.get("/extra", openapi_extra={"x-foo": 1, "responses": {"418": {"description": "teapot"}}})
    def extra():
        return {}

    @app.get("/hidden", include_in_schema=False)
    def hidden():
        return {}

    paths = document(app)["paths"]
    assert "/hidden" not in paths
    assert "/openapi.json" not in paths and "/docs" not in paths
    assert paths["/extra"]["get"]["x-foo"] == 1
    assert paths["/extra"]["get"]["responses"]["418"] == {"description": "teapot"}


def test_security_dependencies() -> None:
    oauth = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Me", "items": "Items"})

    def get_user(token: Annotated[str, Depends(oauth)]):
        return token

    def get_active(user: Annotated[str, Security(get_user, scopes=["me"])]):
        return user

    app = Covet()

    @app.get("/users/me/items")
    def items(user: Annotated[str, Security(get_active, scopes=["items"])]):
        return []

    @app.get("/basic")
    def basic(credentials: Annotated[Any, Depends(HTTPBasic(description="basic auth"))]):
        return {}

    doc = document(app)
    assert doc["paths"]["/users/me/items"]["get"]["security"] == [{"OAuth2PasswordBearer": ["items", "me"]}]
    assert doc["paths"]["/basic"]["get"]["security"] == [{"HTTPBasic": []}]
    assert doc["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"scopes": {"me": "Me", "items": "Items"}, "tokenUrl": "token"}},
        },
        "HTTPBasic": {"type": "http", "scheme": "basic", "description": "basic auth"},
    }


def test_openapi_is_cached_and_overridable() -> None:
    app = Covet()

    @app.get("/")
    def root():
        return {}

    first = app.openapi()
    assert app.openapi() is first
    assert app.openapi_schema is first

    def custom():
        return {"openapi": "3.1.0", "info": {"title": "custom", "version": "9"}, "paths": {}}

    app.openapi = custom  # type: ignore[method-assign]
    assert document(app)["info"]["title"] == "custom"


def test_get_openapi_directly_from_routes() -> None:
    app = Covet(openapi_url=None)

    @app.get("/x")
    def x():
        return {}

    doc = get_openapi(title="t", version="v", routes=app.routes, separate_input_output_schemas=False)
    assert doc["paths"]["/x"]["get"]["operationId"] == "x_x_get"


# --- the pages ----------------------------------------------------------------------------------


def test_docs_page_uses_local_assets() -> None:
    app = Covet(title="Shop", swagger_ui_parameters={"deepLinking": False})
    with TestClient(app) as client:
        response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "/_covet/static/swagger-ui-bundle.js" in html
    assert "/_covet/static/swagger-ui.css" in html
    assert '"/openapi.json"' in html
    assert "<title>Shop - Swagger UI</title>" in html
    assert '"deepLinking": false' in html
    assert 'window.location.origin + "/docs/oauth2-redirect"' in html
    assert "cdn" not in html.lower()


def test_redoc_and_oauth2_redirect_pages() -> None:
    app = Covet()
    with TestClient(app) as client:
        redoc = client.get("/redoc")
        redirect = client.get("/docs/oauth2-redirect")
    assert redoc.status_code == 200
    assert '<redoc spec-url="/openapi.json">' in redoc.text
    assert "/_covet/static/redoc.standalone.js" in redoc.text
    assert "fonts.googleapis.com" not in redoc.text
    assert redirect.status_code == 200
    assert "/_covet/static/oauth2-redirect.js" in redirect.text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("redoc.standalone.js", "text/javascript; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
        ("oauth2-redirect.js", "text/javascript; charset=utf-8"),
    ],
)
def test_static_assets_served(name: str, content_type: str) -> None:
    app = Covet()
    with TestClient(app) as client:
        response = client.get(f"/_covet/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert "max-age" in response.headers["cache-control"]
        assert len(response.content) > 100
        etag = response.headers["etag"]
        again = client.get(f"/_covet/static/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/_covet/static/../openapi/utils.py",
        "/_covet/static/%2e%2e/openapi/utils.py",
        "/_covet/static/..%2fopenapi%2futils.py",
        "/_covet/static/README.md",
        "/_covet/static/nope.js",
        "/_covet/static/",
    ],
)
def test_static_refuses_other_files(path: str) -> None:
    app = Covet()
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == 404
    assert b"import" not in response.content


def test_urls_set_to_none_disable_routes() -> None:
    app = Covet(docs_url=None, redoc_url="/alt-redoc")
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/alt-redoc").status_code == 200
        assert client.get("/openapi.json").status_code == 200

    app = Covet(openapi_url=None)
    with TestClient(app) as client:
        for path in ("/openapi.json", "/docs", "/redoc", "/_covet/static/swagger-ui.css"):
            assert client.get(path).status_code == 404

    app = Covet(swagger_ui_oauth2_redirect_url=None)
    with TestClient(app) as client:
        assert client.get("/docs/oauth2-redirect").status_code == 404
        assert "oauth2RedirectUrl" not in client.get("/docs").text


class Box(BaseModel):
    """A box.
    \f
    Internal notes, not for the document."""

    side: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def area(self) -> int:
        return self.side * self.side


def test_fastapi_document_details() -> None:
    """Merged security scopes, media-level examples, a `= Body()` default that is required,
    range keys upper-cased, a model response without a response media type, a model
    description cut at the form feed, and computed fields kept with separate schemas turned
    off."""
    oauth = OAuth2AuthorizationCodeBearer(authorizationUrl="authorize", tokenUrl="token", scopes={"read": "Read"})
    app = Covet(dependencies=[Depends(oauth)], separate_input_output_schemas=False)
    examples = {"one": {"summary": "One", "value": {"name": "a"}}}

    @app.post(
        "/items",
        responses={"5xx": {"description": "Down"}, 404: {"model": User}},
        response_class=Response,
        dependencies=[Security(oauth, scopes=["read"])],
    )
    def create(item: User = Body(openapi_examples=examples)):
        return Response()

    @app.post("/boxes")
    def boxes(
        box: Box = Body(media_type="application/vnd.api+json"), note: str = Body(media_type="application/vnd.api+json")
    ) -> Box:
        return box

    doc = document(app)
    items = doc["paths"]["/items"]["post"]
    assert items["security"] == [{"OAuth2AuthorizationCodeBearer": ["read"]}]
    assert items["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}, "examples": examples}},
        "required": True,
    }
    assert items["responses"]["5XX"] == {"description": "Down"}
    assert items["responses"]["404"] == {
        "description": "Not Found",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
    }
    ok = doc["paths"]["/boxes"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Box-Output"}
    schemas = doc["components"]["schemas"]
    assert schemas["Box-Output"]["description"] == "A box.\n"
    assert schemas["Box-Output"]["properties"]["area"] == {"type": "integer", "title": "Area", "readOnly": True}
    with TestClient(app) as client:
        missing = client.post("/items", headers={"Authorization": "Bearer t"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body"]


def test_invalid_response_key_is_an_error() -> None:
    app = Covet()

    @app.get("/a", responses={"hello": {"description": "Not a status"}})
    def a():
        return {}

    with pytest.raises(ValueError, match="hello"):
        app.openapi()


def test_deprecated_example_is_documented_beside_the_schema() -> None:
    app = Covet()
    with pytest.warns(FastAPIDeprecationWarning, match="`example` has been deprecated"):

        @app.post("/items/{item_id}")
        def create(item_id: str = Path(example="item_1"), item: User = Body(example={"username": "ann"})):
            return item

    operation = document(app)["paths"]["/items/{item_id}"]["post"]
    assert operation["parameters"][0] == {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "title": "Item Id"},
        "example": "item_1",
    }
    assert operation["requestBody"]["content"]["application/json"] == {
        "schema": {"$ref": "#/components/schemas/User"},
        "example": {"username": "ann"},
    }
