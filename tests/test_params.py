"""Typed parameters, bodies and response models beyond the FastAPI parity suite."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from covet import Body, Cookie, Covet, File, Form, Header, Path, Query, Response, UploadFile
from covet.testclient import TestClient


class Item(BaseModel):
    name: str
    price: float
    note: str | None = None


class Headers(BaseModel):
    x_tenant: str
    x_trace: list[str] = []


def test_header_options_and_parameter_models() -> None:
    app = Covet()

    @app.get("/raw")
    async def raw(strange_header: Annotated[str | None, Header(convert_underscores=False)] = None):
        return {"value": strange_header}

    @app.get("/model")
    async def model(h: Annotated[Headers, Header()]):
        return h

    client = TestClient(app)
    assert client.get("/raw", headers={"strange_header": "1"}).json() == {"value": "1"}
    assert client.get("/raw", headers={"strange-header": "1"}).json() == {"value": None}
    r = client.get("/model", headers=[("x-tenant", "acme"), ("x-trace", "a"), ("x-trace", "b")])
    assert r.json() == {"x_tenant": "acme", "x_trace": ["a", "b"]}
    bad = client.get("/model")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["header", "x_tenant"]


def test_constraints_report_ctx_and_path_validation() -> None:
    app = Covet()

    @app.get("/items/{item_id}")
    async def item(
        item_id: Annotated[int, Path(gt=0, le=10, title="The id")], q: Annotated[str, Query(pattern="^a")] = "a"
    ):
        return {"item_id": item_id, "q": q}

    client = TestClient(app)
    assert client.get("/items/3?q=abc").json() == {"item_id": 3, "q": "abc"}
    detail = client.get("/items/11?q=b").json()["detail"]
    assert detail[0] == {
        "type": "less_than_equal",
        "loc": ["path", "item_id"],
        "msg": "Input should be less than or equal to 10",
        "input": "11",
        "ctx": {"le": 10},
    }
    assert detail[1]["type"] == "string_pattern_mismatch"


def test_optional_body_and_cookie_and_response_param() -> None:
    app = Covet()

    @app.post("/maybe")
    async def maybe(item: Item | None = None, session: Annotated[str | None, Cookie()] = None):
        return {"item": item, "session": session}

    @app.post("/single-embed")
    async def single(item: Annotated[Item, Body(embed=True)], response: Response):
        response.set_cookie("seen", "1")
        return item

    client = TestClient(app)
    assert client.post("/maybe").json() == {"item": None, "session": None}
    r = client.post("/maybe", json={"name": "a", "price": 1}, headers={"cookie": "session=s"})
    assert r.json() == {"item": {"name": "a", "price": 1.0, "note": None}, "session": "s"}
    r = client.post("/single-embed", json={"item": {"name": "a", "price": 2}})
    assert r.json() == {"name": "a", "price": 2.0, "note": None}
    assert r.headers["set-cookie"].startswith("seen=1")


def test_response_model_options_and_errors() -> None:
    app = Covet()

    @app.get("/none", response_model=Item, response_model_exclude_none=True)
    async def no_none():
        return {"name": "a", "price": 1}

    @app.get("/include", response_model=Item, response_model_include={"name"})
    async def include():
        return Item(name="b", price=2)

    @app.get("/broken", response_model=Item)
    async def broken():
        return {"name": "c"}

    @app.get("/list", response_model=list[Item])
    def as_list():
        return [{"name": "d", "price": 4, "extra": "dropped"}]

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/none").json() == {"name": "a", "price": 1.0}
    assert client.get("/include").json() == {"name": "b"}
    r = client.get("/broken")
    assert r.status_code == 500
    assert client.get("/list").json() == [{"name": "d", "price": 4.0, "note": None}]


def test_status_code_and_response_class_on_routes() -> None:
    from covet.responses import HTMLResponse, PlainTextResponse

    app = Covet()

    @app.post("/created", status_code=201)
    async def created():
        return {"ok": True}

    @app.get("/page", response_class=HTMLResponse)
    async def page():
        return "<p>hi</p>"

    @app.get("/text", response_class=PlainTextResponse)
    def text():
        return "plain"

    client = TestClient(app)
    assert client.post("/created").status_code == 201
    r = client.get("/page")
    assert r.text == "<p>hi</p>"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/text").text == "plain"


def test_typed_endpoints_through_the_server(serve) -> None:
    """The same typed endpoints over a real socket (the engine's inline path)."""
    import httpx

    server = serve("tests.apps.typed:app", "--no-access-log")
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/users/5?q=x").json() == {"uid": 5, "q": "x"}
        assert client.get("/users/5?limit=0").status_code == 422
        r = client.post("/items/2", json={"name": "a", "price": 1.5})
        assert r.status_code == 201
        assert r.json() == {"id": 2, "name": "a", "price": 1.5, "note": None}
        bad = client.post("/items/2", content=b"{oops", headers={"content-type": "application/json"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["type"] == "json_invalid"
        assert client.get("/model").json() == {"name": "m", "price": 1.0}
        document = client.get("/openapi.json").json()
        assert document["openapi"].startswith("3.1")
        assert "/items/{item_id}" in document["paths"]
        page = client.get("/docs")
        assert page.status_code == 200
        assert "/_covet/static/swagger-ui-bundle.js" in page.text
        asset = client.get("/_covet/static/swagger-ui-bundle.js")
        assert asset.status_code == 200
        assert "javascript" in asset.headers["content-type"]
        assert client.get("/redoc").status_code == 200


class Login(BaseModel):
    username: str
    remember: bool = False


def test_form_and_file_parameters() -> None:
    app = Covet()

    @app.post("/login")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form(min_length=3)]):
        return {"username": username, "password_length": len(password)}

    @app.post("/login-model")
    async def login_model(data: Annotated[Login, Form()]):
        return data

    @app.post("/upload")
    async def upload(
        file: UploadFile,
        raw: Annotated[bytes, File()],
        many: Annotated[list[UploadFile], File()],
        note: Annotated[str, Form()] = "",
    ):
        return {
            "name": file.filename,
            "type": file.content_type,
            "content": (await file.read()).decode(),
            "raw": raw.decode(),
            "many": [f.filename for f in many],
            "note": note,
        }

    client = TestClient(app)
    assert client.post("/login", data={"username": "ada", "password": "secret"}).json() == {
        "username": "ada",
        "password_length": 6,
    }
    bad = client.post("/login", data={"username": "ada", "password": "x"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "password"]
    missing = client.post("/login", data={})
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", "username"], ["body", "password"]]
    assert client.post("/login-model", data={"username": "bo", "remember": "true"}).json() == {
        "username": "bo",
        "remember": True,
    }
    files = [
        ("file", ("a.txt", b"alpha", "text/plain")),
        ("raw", ("r.bin", b"raw!", "application/octet-stream")),
        ("many", ("1.txt", b"1", "text/plain")),
        ("many", ("2.txt", b"2", "text/plain")),
    ]
    r = client.post("/upload", files=files, data={"note": "hi"})
    assert r.json() == {
        "name": "a.txt",
        "type": "text/plain",
        "content": "alpha",
        "raw": "raw!",
        "many": ["1.txt", "2.txt"],
        "note": "hi",
    }


def test_bare_upload_file_parameter_is_a_file() -> None:
    app = Covet()

    @app.post("/one")
    async def one(f: UploadFile, tag: Annotated[str, Form()] = "x"):
        return {"name": f.filename, "tag": tag}

    r = TestClient(app).post("/one", files={"f": ("z.txt", b"z")}, data={"tag": "t"})
    assert r.json() == {"name": "z.txt", "tag": "t"}


def test_engine_built_arguments_agree_with_pydantic() -> None:
    """Simple scalar parameters are converted by the engine itself; every input, canonical or
    not, must give what pydantic gives (the engine hands anything unusual to pydantic)."""
    from pydantic import TypeAdapter

    app = Covet()

    @app.get("/s/{n}")
    async def scalars(n: int, x: float = 1.0, flag: bool = False, name: str | None = None):
        return {"n": n, "x": x, "flag": flag, "name": name}

    assert app.routes[0].fast_args is not None  # this route takes the engine's path
    client = TestClient(app)
    cases = [
        ("7", {}),
        ("-007", {"x": "2.50", "flag": "yes", "name": "ada"}),
        ("+5", {"x": "1e3", "flag": "True"}),
        ("5_000", {"x": " 3", "flag": "on"}),
        ("12345678901234567890", {}),
        ("abc", {"x": "1.5.1", "flag": "maybe"}),
        ("1", {"x": "-0.25", "flag": "0"}),
    ]
    for n, query in cases:
        got = client.get(f"/s/{n}", params=query)
        data = {"n": n, **query}
        types = {"n": int, "x": float, "flag": bool, "name": str | None}
        expected: dict[str, object] = {"n": None, "x": 1.0, "flag": False, "name": None}
        errors = 0
        for key, value in data.items():
            try:
                expected[key] = TypeAdapter(types[key]).validate_python(value)
            except Exception:
                errors += 1
        if errors:
            assert got.status_code == 422, (n, query, got.text)
            assert len(got.json()["detail"]) == errors
        else:
            body = got.json()
            assert got.status_code == 200, (n, query, got.text)
            assert body == expected
