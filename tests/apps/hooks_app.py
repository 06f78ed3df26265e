"""An app with request hooks on the app and on two nested routers (tests/test_request_hooks.py).

Each hook appends its name to `request.state.trail`; an after hook puts the trail in the
`x-trail` response header; teardown hooks record `(name, exception type or None)` in `TORN`,
which `/torn` returns (and empties)."""

from __future__ import annotations

from typing import Any

from covet import APIRouter, Covet, Request
from covet.exceptions import HTTPException
from covet.responses import JSONResponse, PlainTextResponse, Response

app = Covet()
TORN: list[list[Any]] = []


def trail(request: Request, name: str) -> None:
    request.state.trail = [*getattr(request.state, "trail", []), name]


@app.before_request
def app_before_1(request: Request) -> None:
    trail(request, "app-before-1")
    if request.query_params.get("stop") == "app":
        return PlainTextResponse("stopped by app", status_code=403)  # type: ignore[return-value]
    return None


@app.before_request
async def app_before_2(request: Request) -> None:
    trail(request, "app-before-2")
    if request.query_params.get("fail") == "before":
        raise RuntimeError("before hook failed")


@app.after_request
async def app_after_1(request: Request, response: Response) -> Response:
    response.headers["x-trail"] = ",".join(request.state.trail)
    return response


@app.after_request
def app_after_2(request: Request, response: Response) -> Response:
    trail(request, "app-after-2")
    return response


@app.teardown_request
def app_teardown_1(request: Request, exc: BaseException | None) -> None:
    if request.url.path != "/torn":
        TORN.append(["app-1", type(exc).__name__ if exc else None])


@app.teardown_request
async def app_teardown_2(request: Request, exc: BaseException | None) -> None:
    if request.url.path == "/torn":
        return
    TORN.append(["app-2", type(exc).__name__ if exc else None])
    raise ValueError("a failing teardown is logged, never sent")


outer = APIRouter()
inner = APIRouter()


@outer.before_request
def outer_before(request: Request) -> Any:
    trail(request, "outer-before")
    if request.query_params.get("stop") == "outer":
        return {"stopped": "outer"}
    return None


@outer.after_request
def outer_after(request: Request, response: Response) -> Response:
    trail(request, "outer-after")
    return response


@outer.teardown_request
def outer_teardown(request: Request, exc: BaseException | None) -> None:
    TORN.append(["outer", type(exc).__name__ if exc else None])


@inner.before_request
async def inner_before(request: Request) -> None:
    trail(request, "inner-before")


@inner.after_request
async def inner_after(request: Request, response: Response) -> Response:
    trail(request, "inner-after")
    return response


@inner.get("/deep")
async def deep(request: Request) -> dict[str, Any]:
    trail(request, "view")
    if request.query_params.get("fail") == "view":
        raise RuntimeError("view failed")
    if request.query_params.get("fail") == "404":
        raise HTTPException(404, "no such thing")
    return {"trail": request.state.trail}


@outer.get("/shallow")
def shallow(request: Request) -> dict[str, Any]:
    trail(request, "view")
    return {"trail": request.state.trail}


outer.include_router(inner, prefix="/inner")
app.include_router(outer, prefix="/outer")


@app.get("/plain")
async def plain(request: Request) -> dict[str, Any]:
    trail(request, "view")
    return {"trail": request.state.trail}


@app.get("/torn")
async def torn() -> JSONResponse:
    done = list(TORN)
    TORN.clear()
    return JSONResponse(done)
