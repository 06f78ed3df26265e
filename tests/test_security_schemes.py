"""Security scheme dependencies: credentials read from the request, and FastAPI's 401 answers
(body and `WWW-Authenticate` challenge) when they are missing or malformed."""

# No `from __future__ import annotations`: endpoints below use local names (models, schemes)
# in their annotations, which must be evaluated where they are defined.

import base64
from typing import Annotated, Any

import pytest

from covet import Covet, Depends, Security
from covet.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
    SecurityScopes,
    get_authorization_scheme_param,
)
from covet.testclient import TestClient

NOT_AUTHENTICATED = {"detail": "Not authenticated"}


def client_for(scheme: Any) -> TestClient:
    """An app whose `/` returns what the scheme's dependency gave (credentials as a dict)."""
    app = Covet()

    @app.get("/")
    def read(value: Annotated[Any, Depends(scheme)]) -> dict[str, Any]:
        if hasattr(value, "model_dump"):
            value = value.model_dump()
        return {"value": value}

    return TestClient(app)


def basic(userpass: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(userpass).decode()}


def assert_401(response: Any, challenge: str) -> None:
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["www-authenticate"] == challenge


@pytest.mark.parametrize("scheme_cls", [OAuth2PasswordBearer, OAuth2AuthorizationCodeBearer])
def test_oauth2_bearer(scheme_cls: Any) -> None:
    if scheme_cls is OAuth2PasswordBearer:
        scheme, lenient = scheme_cls(tokenUrl="token"), scheme_cls(tokenUrl="token", auto_error=False)
    else:
        scheme = scheme_cls(authorizationUrl="auth", tokenUrl="token")
        lenient = scheme_cls(authorizationUrl="auth", tokenUrl="token", auto_error=False)
    with client_for(scheme) as client:
        assert_401(client.get("/"), "Bearer")
        assert_401(client.get("/", headers={"Authorization": "Basic abc"}), "Bearer")
        assert client.get("/", headers={"Authorization": "Bearer tok"}).json() == {"value": "tok"}
        assert client.get("/", headers={"Authorization": "bearer tok"}).json() == {"value": "tok"}
    with client_for(lenient) as client:
        assert client.get("/").json() == {"value": None}
        assert client.get("/", headers={"Authorization": "Basic abc"}).json() == {"value": None}


def test_http_basic() -> None:
    with client_for(HTTPBasic()) as client:
        assert_401(client.get("/"), "Basic")
        assert_401(client.get("/", headers={"Authorization": "Bearer x"}), "Basic")
        assert_401(client.get("/", headers={"Authorization": "Basic !!!not-base64"}), "Basic")
        assert_401(client.get("/", headers=basic(b"no-colon")), "Basic")
        assert_401(client.get("/", headers=basic("é:x".encode())), "Basic")  # not ASCII
        assert client.get("/", headers=basic(b"john:se:cret")).json() == {
            "value": {"username": "john", "password": "se:cret"}
        }
        assert client.get("/", headers=basic(b":")).json() == {"value": {"username": "", "password": ""}}
    with client_for(HTTPBasic(realm="simple")) as client:
        assert_401(client.get("/"), 'Basic realm="simple"')
    with client_for(HTTPBasic(auto_error=False)) as client:
        assert client.get("/").json() == {"value": None}
        # Credentials that were sent but are malformed are refused even so, as in FastAPI.
        assert_401(client.get("/", headers=basic(b"no-colon")), "Basic")


def test_http_bearer_and_digest() -> None:
    with client_for(HTTPBearer()) as client:
        assert_401(client.get("/"), "Bearer")
        assert_401(client.get("/", headers={"Authorization": "Bearer"}), "Bearer")
        assert_401(client.get("/", headers={"Authorization": "Basic abc"}), "Bearer")
        assert client.get("/", headers={"Authorization": "Bearer tok en"}).json() == {
            "value": {"scheme": "Bearer", "credentials": "tok en"}
        }
    with client_for(HTTPBearer(auto_error=False)) as client:
        assert client.get("/").json() == {"value": None}
        assert client.get("/", headers={"Authorization": "Basic abc"}).json() == {"value": None}
    with client_for(HTTPDigest()) as client:
        assert_401(client.get("/"), "Digest")
        assert_401(client.get("/", headers={"Authorization": "Bearer x"}), "Digest")
        assert client.get("/", headers={"Authorization": "Digest a=1"}).json() == {
            "value": {"scheme": "Digest", "credentials": "a=1"}
        }


def test_api_keys() -> None:
    with client_for(APIKeyHeader(name="X-Key")) as client:
        assert_401(client.get("/"), "APIKey")
        assert client.get("/", headers={"x-key": "k1"}).json() == {"value": "k1"}
    with client_for(APIKeyQuery(name="key")) as client:
        assert_401(client.get("/"), "APIKey")
        assert_401(client.get("/?key="), "APIKey")
        assert client.get("/?key=k2").json() == {"value": "k2"}
    with client_for(APIKeyCookie(name="session")) as client:
        assert_401(client.get("/"), "APIKey")
        assert client.get("/", headers={"Cookie": "session=k3"}).json() == {"value": "k3"}
    with client_for(APIKeyHeader(name="X-Key", auto_error=False)) as client:
        assert client.get("/").json() == {"value": None}


def test_open_id_connect() -> None:
    with client_for(OpenIdConnect(openIdConnectUrl="https://id/.well-known/openid-configuration")) as client:
        assert_401(client.get("/"), "Bearer")
        assert client.get("/", headers={"Authorization": "Bearer t"}).json() == {"value": "Bearer t"}


def test_password_request_form() -> None:
    app = Covet()

    @app.post("/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        return {
            "username": form.username,
            "password": form.password,
            "scopes": form.scopes,
            "grant_type": form.grant_type,
            "client_id": form.client_id,
        }

    @app.post("/strict")
    def strict(form: Annotated[OAuth2PasswordRequestFormStrict, Depends()]) -> dict[str, Any]:
        return {"grant_type": form.grant_type}

    with TestClient(app) as client:
        response = client.post("/token", data={"username": "u", "password": "p", "scope": "a b:c"})
        assert response.json() == {
            "username": "u",
            "password": "p",
            "scopes": ["a", "b:c"],
            "grant_type": None,
            "client_id": None,
        }
        missing = client.post("/token", data={"username": "u"})
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["loc"] == ["body", "password"]
        wrong = client.post("/token", data={"username": "u", "password": "p", "grant_type": "code"})
        assert wrong.status_code == 422
        assert client.post("/strict", data={"username": "u", "password": "p"}).status_code == 422
        ok = client.post("/strict", data={"username": "u", "password": "p", "grant_type": "password"})
        assert ok.json() == {"grant_type": "password"}

    body = app.openapi()["components"]["schemas"]["Body_login_token_post"]
    assert body["required"] == ["username", "password"]
    assert body["properties"]["password"] == {"type": "string", "format": "password", "title": "Password"}
    assert body["properties"]["grant_type"] == {
        "anyOf": [{"type": "string", "pattern": "^password$"}, {"type": "null"}],
        "title": "Grant Type",
    }


def test_strict_password_form_document_and_answer() -> None:
    """FastAPI's strict form marks no field `format: password`, and the form returned as is
    answers with its attributes."""
    app = Covet()

    @app.post("/login")
    def login(form: Annotated[OAuth2PasswordRequestFormStrict, Depends()]):
        return form

    with TestClient(app) as client:
        response = client.post("/login", data={"username": "u", "password": "p", "grant_type": "password"})
    assert response.status_code == 200
    assert response.json() == {
        "grant_type": "password",
        "username": "u",
        "password": "p",
        "scopes": [],
        "client_id": None,
        "client_secret": None,
    }
    properties = app.openapi()["components"]["schemas"]["Body_login_login_post"]["properties"]
    assert properties["password"] == {"type": "string", "title": "Password"}
    assert properties["client_secret"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Client Secret"}


def test_security_scopes_are_collected() -> None:
    oauth = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Me", "items": "Items"})

    def current_user(scopes: SecurityScopes, token: Annotated[str, Depends(oauth)]) -> dict[str, Any]:
        return {"token": token, "scopes": scopes.scopes, "scope_str": scopes.scope_str}

    app = Covet()

    @app.get("/items")
    def items(user: Annotated[dict[str, Any], Security(current_user, scopes=["items", "me"])]) -> dict[str, Any]:
        return user

    with TestClient(app) as client:
        assert client.get("/items", headers={"Authorization": "Bearer t"}).json() == {
            "token": "t",
            "scopes": ["items", "me"],
            "scope_str": "items me",
        }


def test_scheme_models() -> None:
    assert OAuth2PasswordBearer(tokenUrl="/token", refreshUrl="/refresh", description="d").model == {
        "type": "oauth2",
        "description": "d",
        "flows": {"password": {"tokenUrl": "/token", "refreshUrl": "/refresh", "scopes": {}}},
    }
    assert OAuth2AuthorizationCodeBearer(authorizationUrl="a", tokenUrl="t", scopes={"x": "y"}).model == {
        "type": "oauth2",
        "flows": {"authorizationCode": {"authorizationUrl": "a", "tokenUrl": "t", "scopes": {"x": "y"}}},
    }
    assert HTTPBearer(bearerFormat="JWT").model == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert HTTPDigest().model == {"type": "http", "scheme": "digest"}
    assert APIKeyCookie(name="c", description="d").model == {
        "type": "apiKey",
        "description": "d",
        "in": "cookie",
        "name": "c",
    }
    assert HTTPBasic().scheme_name == "HTTPBasic"
    assert HTTPBasic(scheme_name="Login").scheme_name == "Login"
    assert HTTPBasicCredentials(username="a", password="b").password == "b"
    assert HTTPAuthorizationCredentials(scheme="Bearer", credentials="t").credentials == "t"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ("", "")),
        ("", ("", "")),
        ("Bearer", ("Bearer", "")),
        ("Bearer  abc ", ("Bearer", "abc")),
        ("Basic a b", ("Basic", "a b")),
    ],
)
def test_get_authorization_scheme_param(header: str | None, expected: tuple[str, str]) -> None:
    assert get_authorization_scheme_param(header) == expected
