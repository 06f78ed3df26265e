"""Every module a FastAPI app (or its tests) imports from `fastapi.*` / `starlette.*` has a
`covet.*` module of the same name with the names ported code uses, so that changing the
imports is enough."""

from __future__ import annotations

import importlib

import pytest
from pydantic import BaseModel

NAMES = {
    "applications": ["Covet"],
    "background": ["BackgroundTasks"],
    "concurrency": ["run_in_threadpool", "iterate_in_threadpool"],
    "datastructures": [
        "UploadFile",
        "Headers",
        "QueryParams",
        "State",
        "Default",
        "DefaultPlaceholder",
        "MultiDict",
        "URLPath",
        "Secret",
        "CommaSeparatedStrings",
    ],
    "dependencies.models": ["Dependant"],
    "encoders": ["jsonable_encoder"],
    "exceptions": [
        "HTTPException",
        "RequestValidationError",
        "ResponseValidationError",
        "WebSocketRequestValidationError",
        "FastAPIError",
        "PydanticV1NotSupportedError",
        "FastAPIDeprecationWarning",
        "StarletteDeprecationWarning",
        "WebSocketException",
    ],
    "middleware": ["Middleware", "BaseHTTPMiddleware"],
    "middleware.base": ["BaseHTTPMiddleware", "RequestResponseEndpoint", "DispatchFunction"],
    "middleware.cors": ["CORSMiddleware"],
    "middleware.gzip": ["GZipMiddleware"],
    "middleware.httpsredirect": ["HTTPSRedirectMiddleware"],
    "middleware.trustedhost": ["TrustedHostMiddleware"],
    "middleware.wsgi": ["WSGIMiddleware"],
    "openapi.docs": ["get_swagger_ui_html", "get_redoc_html"],
    "openapi.models": ["OpenAPI", "Operation", "Parameter", "Schema", "SchemaType", "OAuthFlows", "APIKey", "Example"],
    "openapi.utils": ["get_openapi"],
    "param_functions": ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"],
    "params": ["Depends", "Query"],
    "requests": ["Request"],
    "responses": ["Response", "JSONResponse", "HTMLResponse", "PlainTextResponse", "StreamingResponse"],
    "routing": ["APIRouter", "APIRoute", "BaseRoute", "Match", "NoMatchFound"],
    "security": ["OAuth2PasswordBearer", "HTTPBearer", "APIKeyHeader", "SecurityScopes"],
    "staticfiles": ["StaticFiles"],
    "status": [
        "HTTP_200_OK",
        "HTTP_404_NOT_FOUND",
        "HTTP_413_CONTENT_TOO_LARGE",
        "HTTP_414_URI_TOO_LONG",
        "WS_1015_TLS_HANDSHAKE",
    ],
    "templating": ["Jinja2Templates"],
    "testclient": ["TestClient"],
    "types": ["ASGIApp", "Message", "Receive", "Scope", "Send", "Lifespan"],
    "websockets": ["WebSocket", "WebSocketDisconnect"],
}


@pytest.mark.parametrize("module", sorted(NAMES))
def test_module_has_the_names(module: str) -> None:
    loaded = importlib.import_module(f"covet.{module}")
    missing = [name for name in NAMES[module] if not hasattr(loaded, name)]
    assert missing == []


def test_param_functions_are_the_params_ones() -> None:
    from covet import param_functions, params

    assert param_functions.Query is params.Query
    assert param_functions.Depends is params.Depends


def test_default_placeholder_compares_by_value() -> None:
    from covet.datastructures import Default, DefaultPlaceholder

    assert Default("a") == Default("a") != Default("b")
    assert isinstance(Default("a"), DefaultPlaceholder)
    assert Default("a").value == "a"
    assert Default("a") and not Default("")


@pytest.mark.parametrize("name", ["ORJSONResponse", "UJSONResponse"])
def test_deprecated_json_responses_warn_and_answer_json(name: str) -> None:
    from covet import Covet, responses
    from covet.exceptions import FastAPIDeprecationWarning
    from covet.testclient import TestClient

    cls = getattr(responses, name)
    app = Covet()

    @app.get("/")
    def index() -> dict[str, int]:
        return cls({"a": 1})

    with pytest.warns(FastAPIDeprecationWarning, match=f"{name} is deprecated"):
        response = TestClient(app).get("/")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"a": 1}


def test_openapi_models_validate_and_keep_extensions() -> None:
    from pydantic import ValidationError

    from covet.openapi.models import APIKey, OAuthFlows, Schema

    flows = OAuthFlows(password={"tokenUrl": "/token", "scopes": {"read": "Read"}})
    assert flows.model_dump(by_alias=True, exclude_none=True) == {
        "password": {"tokenUrl": "/token", "scopes": {"read": "Read"}}
    }
    key = APIKey.model_validate({"in": "header", "name": "X-Key"})
    assert key.model_dump(by_alias=True, exclude_none=True, mode="json") == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Key",
    }
    schema = Schema.model_validate({"type": ["string", "null"], "x-order": 1})
    assert schema.model_dump(by_alias=True, exclude_none=True) == {"type": ["string", "null"], "x-order": 1}
    with pytest.raises(ValidationError):
        Schema(type="text")


def test_url_copies_with_changed_parts_and_query() -> None:
    from covet.datastructures import URL

    url = URL("https", "example.com:8443", "/a", "x=1&y=2")
    assert str(url.replace(path="/b")) == "https://example.com:8443/b?x=1&y=2"
    assert str(url.replace(hostname="other.org", port=None)) == "https://other.org/a?x=1&y=2"
    assert str(url.include_query_params(x=3)) == "https://example.com:8443/a?y=2&x=3"
    assert str(url.replace_query_params(q="a b")) == "https://example.com:8443/a?q=a+b"
    assert str(url.remove_query_params(["x", "y"])) == "https://example.com:8443/a"
    assert url.is_secure
    with pytest.raises(TypeError, match="fragment"):
        url.replace(fragment="f")


def test_multidict_config_values_and_url_paths() -> None:
    from covet.datastructures import CommaSeparatedStrings, MultiDict, Secret, URLPath

    d = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    d["a"] = "9"
    d.append("b", "4")
    assert d.multi_items() == [("b", "3"), ("a", "9"), ("b", "4")]
    assert d.poplist("b") == ["3", "4"]
    d.update({"c": "5"}, a="0")
    assert sorted(d.multi_items()) == [("a", "0"), ("c", "5")]
    assert list(CommaSeparatedStrings("a, b, 'c d'")) == ["a", "b", "c d"]
    assert repr(Secret("pw")) == "Secret('**********')" and str(Secret("pw")) == "pw"
    assert URLPath("/ws", "websocket").make_absolute_url("https://h.com/root/") == "wss://h.com/root/ws"


class Item(BaseModel):
    name: str


def test_openapi_document_round_trips_through_the_models() -> None:
    from covet import Covet, Query
    from covet.openapi.models import OpenAPI

    app = Covet()

    @app.post("/items/{item_id}")
    def create(item_id: int, item: Item, q: str | None = Query(None)) -> Item:
        return item

    document = app.openapi()
    parsed = OpenAPI.model_validate(document)
    assert parsed.model_dump(by_alias=True, exclude_none=True, mode="json") == document
