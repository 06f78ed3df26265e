"""Route objects asked through Starlette's API, for tests/test_route_objects.py: `APIRoute`
subclasses overriding `matches` or `handle` (served through an inclusion), a
`Mount(routes=[...])`, and `add_route` with a request-taking endpoint."""

from __future__ import annotations

from typing import Any

from covet import APIRouter, Covet, Request
from covet.responses import PlainTextResponse
from covet.route_matching import Match
from covet.routing import APIRoute, Host, Mount, Route, Router


class HeaderRoute(APIRoute):
    """Takes a request only when it carries `x-match: yes`."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        if dict(scope.get("headers", [])).get(b"x-match") != b"yes":
            return Match.NONE, {}
        return super().matches(scope)


class WrappingRoute(APIRoute):
    """Wraps the ASGI call: adds a header to the response the route sends."""

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def marked(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-wrapped", b"yes")]
            await send(message)

        await super().handle(scope, receive, marked)


class RejectingRoute(APIRoute):
    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        return Match.NONE, {}


class HeaderRouter(APIRouter):
    """A router taking requests only with `x-router: yes` (its routes are then asked in turn)."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        if dict(scope.get("headers", [])).get(b"x-router") != b"yes":
            return Match.NONE, {}
        return super().matches(scope)


class MarkingRouter(APIRouter):
    """Wraps the ASGI call of the requests it routes: adds `x-<mark>: yes` to the response."""

    def __init__(self, mark: str, **options: Any) -> None:
        super().__init__(**options)
        self.mark = mark.encode()

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def marked(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-" + self.mark, b"yes")]
            await send(message)

        await super().handle(scope, receive, marked)


def effective_path(request: Request) -> str:
    return str(request.scope["fastapi"]["effective_route_context"].path)


header_router = APIRouter(route_class=HeaderRoute)
wrapping_router = APIRouter(route_class=WrappingRoute)
rejecting_router = APIRouter(route_class=RejectingRoute)
fallback_router = APIRouter()
routed = HeaderRouter(prefix="/routed")


@routed.get("/ping/{n}")
def ping(n: int, request: Request) -> dict[str, Any]:
    return {"n": n, "path": effective_path(request)}


@header_router.get("/matched/{item_id}")
def matched(item_id: int, request: Request) -> dict[str, Any]:
    return {"item_id": item_id, "path": effective_path(request)}


@wrapping_router.post("/wrapped")
def wrapped(payload: dict[str, int], request: Request) -> dict[str, Any]:
    return {"payload": payload, "path": effective_path(request)}


@rejecting_router.get("/either")
def rejected() -> str:  # never asked: its route never matches
    raise AssertionError("unreachable")


@fallback_router.get("/either")
def fallback() -> str:
    return "fallback"


def mounted_item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"mounted {request.path_params['item_id']} {request.scope['root_path']}")


mount_router = APIRouter(
    routes=[Mount("/mounted", routes=[Route("/items/{item_id}", mounted_item, name="read_item")], name="mounted")]
)


def hosted_item(request: Request) -> PlainTextResponse:
    params = request.path_params
    return PlainTextResponse(f"hosted {params['subdomain']} {params['item_id']} {request.scope['root_path']}")


hosted = Router(routes=[Route("/hosted/{item_id}", hosted_item, name="read_item")])
host_router = APIRouter(routes=[Host("{subdomain}.example.test", hosted, name="hosted")])

outer = MarkingRouter("outer")
inner = MarkingRouter("inner")


@inner.get("/deep")
def deep(request: Request) -> str:
    return effective_path(request)


@outer.get("/shallow")
def shallow() -> str:
    return "shallow"


outer.include_router(inner, prefix="/inner")

app = Covet()
app.include_router(header_router, prefix="/api")
app.include_router(wrapping_router, prefix="/api")
app.include_router(rejecting_router, prefix="/api")
app.include_router(fallback_router, prefix="/api")
app.include_router(mount_router, prefix="/api")
app.include_router(routed, prefix="/api")
app.include_router(host_router, prefix="/api")
app.include_router(outer, prefix="/outer")
app.routes.append(Host("static.other.test", Router(routes=[Route("/", lambda request: PlainTextResponse("static"))])))


def plain(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"plain {request.query_params.get('q')}")


app.add_route("/plain", plain)


@app.get("/links")
def links() -> str:
    return app.url_path_for("mounted:read_item", item_id="abc")


@app.get("/host-link")
def host_link() -> dict[str, str]:
    url = app.url_path_for("hosted:read_item", subdomain="eu", item_id="7")
    return {"path": url, "host": url.host}
