"""How parameter declarations read: pydantic's special scalar types are query parameters (as in
FastAPI, not a JSON body), `Query()` & co. repr as FastAPI shows them, and a type the request
part cannot carry is refused when the route is registered."""

from typing import Annotated, Any

import pytest
from annotated_types import Gt
from pydantic import AnyUrl, BaseModel, EmailStr, Field, HttpUrl, IPvAnyAddress, Json, NameEmail, SecretStr

from covet import Body, Cookie, Covet, Depends, Header, Path, Query
from covet.dependencies.declarations import InvalidParameter
from covet.params import Param
from covet.testclient import TestClient

app = Covet()


@app.get("/contact")
def contact(
    email: EmailStr,
    site: HttpUrl,
    ip: IPvAnyAddress,
    secret: SecretStr,
    name: NameEmail | None = None,
    extra: AnyUrl | None = None,
) -> dict[str, str | None]:
    return {
        "email": email,
        "site": str(site),
        "ip": str(ip),
        "secret": secret.get_secret_value(),
        "name": name.name if name else None,
        "extra": str(extra) if extra else None,
    }


def test_special_scalars_are_read_from_the_query() -> None:
    with TestClient(app) as client:
        params = {"email": "a@b.co", "site": "http://x.org", "ip": "::1", "secret": "s", "name": "Ann <a@b.co>"}
        r = client.get("/contact", params=params)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "email": "a@b.co",
            "site": "http://x.org/",
            "ip": "::1",
            "secret": "s",
            "name": "Ann",
            "extra": None,
        }
        r = client.get("/contact", params={**params, "email": "nope"})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["detail"]] == [["query", "email"]]
        doc = client.get("/openapi.json").json()["paths"]["/contact"]["get"]
    assert [(p["name"], p["in"]) for p in doc["parameters"]] == [
        ("email", "query"),
        ("site", "query"),
        ("ip", "query"),
        ("secret", "query"),
        ("name", "query"),
        ("extra", "query"),
    ]
    assert "requestBody" not in doc


def test_declarations_repr_as_fastapi() -> None:
    assert repr(Query("x")) == "Query(x)"
    assert repr(Query(None)) == "Query(None)"
    assert repr(Header(...)) == "Header(PydanticUndefined)"
    assert repr(Cookie(1)) == "Cookie(1)"
    assert repr(Path()) == "Path(PydanticUndefined)"
    assert repr(Body([])) == "Body([])"
    assert repr(Param("x")) == "Param(x)"


class Item(BaseModel):
    title: str


@pytest.mark.parametrize("annotation", [list[Item], tuple[int, int], dict[str, int], list, set])
def test_path_parameter_must_be_a_scalar(annotation: Any) -> None:
    app = Covet()

    def handler(id: annotation) -> None: ...  # type: ignore[valid-type]

    with pytest.raises(InvalidParameter, match="Path params must be of one of the supported types: 'id'"):
        app.get("/items/{id}")(handler)


@pytest.mark.parametrize("annotation", [list[Item], tuple[Item, Item], dict[str, Item], dict | None])
def test_query_parameter_must_be_scalar_or_scalar_list(annotation: Any) -> None:
    app = Covet()

    def handler(q: annotation = Query(None)) -> None: ...  # type: ignore[valid-type]

    # Both an AssertionError (FastAPI's) and a ValueError (covet's other declaration errors).
    with pytest.raises(AssertionError, match="Query parameter 'q' must be one of the supported types"):
        app.get("/items/")(handler)
    with pytest.raises(ValueError):
        app.get("/other/")(handler)


def test_query_scalar_lists_and_models_are_accepted() -> None:
    app = Covet()

    @app.get("/ok/{id}")
    def ok(
        id: int,
        tags: list[int] | None = Query(None),
        pair: tuple[str, ...] = Query(()),
        item: Annotated[Item, Query()] = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        return {"id": id, "tags": tags, "pair": list(pair)}

    with TestClient(app) as client:
        r = client.get("/ok/3", params=[("tags", "1"), ("tags", "2"), ("pair", "a"), ("title", "t")])
    assert r.status_code == 200, r.text
    assert r.json() == {"id": 3, "tags": [1, 2], "pair": ["a"]}


def test_query_declared_as_default_without_value_is_required() -> None:
    # `q: str | None = Query()`: required (it may be sent empty-handed only if given a default).
    app = Covet()

    @app.get("/q")
    def read(q: str | None = Query()) -> str | None:
        return q

    with TestClient(app) as client:
        assert client.get("/q", params={"q": "foo"}).json() == "foo"
        r = client.get("/q")
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["query", "q"]


def _dep() -> int:
    return 1


def test_ambiguous_declarations_are_refused_at_startup() -> None:
    app = Covet()

    def query_default(item_id: Annotated[int, Query(default=1)]) -> None: ...

    def depends_twice(foo: Annotated[int, Depends(_dep)] = Depends(_dep)) -> None: ...

    def query_and_depends(foo: Annotated[int, Query(min_length=1)] = Depends(_dep)) -> None: ...

    def query_twice(foo: Annotated[int, Query()] = Query()) -> None: ...

    with pytest.raises(AssertionError, match="Path parameters cannot have a default value"):
        Path(default=1)  # FastAPI refuses it in Path() itself
    cases = [
        (query_default, "`Query` default value cannot be set in `Annotated` for 'item_id'. Set the default value"),
        (depends_twice, "Cannot specify `Depends` in `Annotated` and default value together for 'foo'"),
        (query_and_depends, "Cannot specify a FastAPI annotation in `Annotated` and `Depends` as a default value"),
        (query_twice, "Cannot specify FastAPI annotations in `Annotated` and default value together for 'foo'"),
    ]
    for handler, message in cases:
        with pytest.raises(InvalidParameter, match=message.replace("(", r"\(").replace("[", r"\[")):
            app.get("/")(handler)


def test_annotated_declarations_add_up() -> None:
    app = Covet()

    @app.get("/multi")
    def multi(foo: Annotated[int, Query(gt=2), Query(lt=10)]) -> int:
        return foo

    with TestClient(app) as client:
        assert client.get("/multi", params={"foo": "5"}).json() == 5
        assert client.get("/multi", params={"foo": "1"}).json()["detail"][0]["type"] == "greater_than"
        assert client.get("/multi", params={"foo": "12"}).json()["detail"][0]["type"] == "less_than"


def test_param_functions_module() -> None:
    from covet import param_functions

    assert param_functions.Query is Query
    assert param_functions.Depends is Depends


def test_regex_still_works_with_a_deprecation_warning() -> None:
    from covet.exceptions import FastAPIDeprecationWarning

    with pytest.warns(FastAPIDeprecationWarning, match="`regex` has been deprecated") as record:
        declared = Header(None, regex="^fixed$")
    assert record[0].filename == __file__  # points at the caller's line
    app = Covet()

    @app.get("/r")
    def read(q: Annotated[str | None, Query(pattern="^fixed$")] = None, h: str | None = declared) -> str | None:
        return q

    with TestClient(app) as client:
        assert client.get("/r", params={"q": "fixed"}).json() == "fixed"
        r = client.get("/r", headers={"h": "other"})
        assert r.status_code == 422
        assert r.json()["detail"][0]["type"] == "string_pattern_mismatch"


def test_constrained_set_alias_inside_optional_is_a_repeated_query_parameter() -> None:
    small_set = Annotated[set[str], Field(max_length=2)]
    local = Covet()

    @local.get("/")
    def read(foo: Annotated[small_set | None, Query()] = None) -> dict[str, list[str] | None]:
        return {"foo": sorted(foo) if foo else None}

    with TestClient(local) as tc:
        assert tc.get("/").json() == {"foo": None}
        assert tc.get("/", params={"foo": ["a", "b"]}).json() == {"foo": ["a", "b"]}
        r = tc.get("/", params={"foo": ["a", "b", "c"]})
        assert r.status_code == 422
        assert r.json()["detail"][0]["type"] == "too_long"


def test_example_is_deprecated_for_examples() -> None:
    from covet.exceptions import FastAPIDeprecationWarning

    with pytest.warns(FastAPIDeprecationWarning, match="`example` has been deprecated") as record:
        Path(example="item_1")
    assert record[0].filename == __file__


def test_annotated_metadata_besides_the_declaration_applies() -> None:
    # `Gt(5)` next to Query() constrains the value; `Json[...]` is one JSON-encoded value.
    app = Covet()

    @app.get("/gt")
    def gt(n: Annotated[int, Gt(5), Query()]) -> int:
        return n

    @app.get("/json")
    def json_list(items: Annotated[Json[list[str]], Query()], x_items: Annotated[Json[list[int]], Header()]) -> list:
        return [items, x_items]

    with TestClient(app) as client:
        assert client.get("/gt", params={"n": "6"}).json() == 6
        r = client.get("/gt", params={"n": "1"})
        assert r.status_code == 422
        assert r.json()["detail"][0]["type"] == "greater_than"
        r = client.get("/json", params={"items": '["a", "b"]'}, headers={"x-items": "[1, 2]"})
        assert r.status_code == 200, r.text
        assert r.json() == [["a", "b"], [1, 2]]


def test_request_validation_error_names_its_endpoint() -> None:
    from covet import Request, RequestValidationError
    from covet.responses import JSONResponse

    app = Covet()
    seen: list[str] = []

    @app.exception_handler(RequestValidationError)
    async def capture(request: Request, exc: RequestValidationError) -> JSONResponse:
        seen.append(str(exc))
        return JSONResponse({"detail": exc.errors()}, status_code=422)

    @app.get("/users/{user_id}")
    def get_user(user_id: int, q: str = "") -> int:
        return user_id

    @app.get("/deps/{n}")
    def with_dependency(n: int, dep: int = Depends(_dep)) -> int:  # the full solver, not the fast path
        return n

    with TestClient(app) as client:
        assert client.get("/users/x").status_code == 422
        assert client.get("/deps/x").status_code == 422
    assert seen[0].startswith("1 validation error:\n  {'type': 'int_parsing'")
    assert f'File "{__file__}"' in seen[0] and "in get_user" in seen[0] and "GET /users/{user_id}" in seen[0]
    assert "in with_dependency" in seen[1] and "GET /deps/{n}" in seen[1]


def test_validation_error_text_without_a_handler() -> None:
    from covet import RequestValidationError

    errors = [{"type": "missing", "loc": ("body", "name"), "msg": "Field required"}]
    assert "Endpoint: GET /api" in str(RequestValidationError(errors, endpoint_ctx={"path": "GET /api"}))
    text = str(RequestValidationError(errors * 2))
    assert text.startswith("2 validation errors:") and "Endpoint" not in text
