"""Routes that take client input every way a client can send it, for the tests that check bad
input always gets a 4xx (tests/test_bad_input.py, test_redirects.py, test_upload_filenames.py).
`app` runs on the engine path; `python_app` is the same app with an `@app.middleware("http")`,
so each request goes through Python."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from covet import Cookie, Covet, Depends, Header, Request
from covet.datastructures import UploadFile
from covet.jwt import HMACKey, JWTAuth
from covet.responses import Response, StreamingResponse

SECRET = "bad-input-test-secret-0123456789abcdef"
jwt_auth = JWTAuth(HMACKey(SECRET, kid="k1"), issuer="covet-test")


class Item(BaseModel):
    name: str
    tags: list[Any] = []


class QuotaExceeded(Exception):
    """An exception of some other library that says which HTTP status it stands for."""

    status_code = 429


def build(python_path: bool) -> Covet:
    app = Covet()
    if python_path:

        @app.middleware("http")
        async def through_python(request: Request, call_next: Any) -> Any:
            return await call_next(request)

    @app.get("/pages/{slug}/")
    async def page(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.get("/{slug}/")
    async def top_page(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        return {"name": item.name}

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    @app.get("/header")
    async def bad_header(value: str) -> Response:
        return Response("x", headers={"x-echo": value})

    @app.get("/header-stream")
    async def bad_header_streamed(value: str) -> StreamingResponse:
        return StreamingResponse(iter([b"x"]), headers={"x-echo": value})

    @app.post("/raw-json")
    async def raw_json(request: Request) -> dict[str, Any]:
        return {"got": await request.json()}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form()
        file = form["file"]
        assert isinstance(file, UploadFile)
        return {"filename": file.filename, "safe": file.safe_filename}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        return dict((await request.form()).items())

    @app.get("/int/{n}")
    async def path_int(n: int, q: int = 0) -> dict[str, int]:
        return {"n": n, "q": q}

    @app.get("/echo/{word}")
    async def echo(word: str, q: str = "", request: Request = None) -> dict[str, Any]:  # type: ignore[assignment]
        return {"word": word, "q": q, "cookies": dict(request.cookies), "query": dict(request.query_params)}

    @app.get("/url")
    async def url(request: Request) -> dict[str, Any]:
        return {"url": str(request.url), "host": request.url.hostname, "port": request.url.port}

    @app.get("/typed")
    async def typed(x_n: int = Header(0), c: int = Cookie(0), f: float = 0.0) -> dict[str, Any]:
        return {"x_n": x_n, "c": c, "f": f}

    @app.get("/starlette-error")
    async def starlette_error() -> None:
        raise StarletteHTTPException(409, "Name taken", headers={"x-why": "duplicate"})

    @app.get("/carrier-error")
    async def carrier_error() -> None:
        raise QuotaExceeded()

    app.mount("/static", StaticFiles(directory=__file__.rsplit("/", 1)[0]))
    return app


app = build(python_path=False)
python_app = build(python_path=True)
