"""Starlette's route-object API on covet's routes (covet.route_objects): an `APIRoute`
subclass overriding `matches` or `handle` is asked for its requests (through an inclusion,
seeing its effective route), `Mount(routes=[...])` serves and names its routes, `add_route`
endpoints take the request, and routes and routers answer `matches`/`handle` when called."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from covet import APIRouter
from covet.responses import PlainTextResponse
from covet.route_matching import Match
from covet.routing import _iter_included_route_candidates
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.route_objects:app")


def test_overridden_matches_chooses_requests_by_header(client: httpx.Client) -> None:
    assert client.get("/api/matched/3").status_code == 404
    response = client.get("/api/matched/3", headers={"x-match": "yes"})
    assert response.status_code == 200
    assert response.json() == {"item_id": 3, "path": "/api/matched/{item_id}"}
    invalid = client.get("/api/matched/x", headers={"x-match": "yes"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_overridden_handle_wraps_the_asgi_call(client: httpx.Client) -> None:
    response = client.post("/api/wrapped", json={"a": 1})
    assert response.status_code == 200
    assert response.headers["x-wrapped"] == "yes"
    assert response.json() == {"payload": {"a": 1}, "path": "/api/wrapped"}
    wrong_method = client.get("/api/wrapped")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"


def test_overridden_router_matches_chooses_requests_for_its_routes(client: httpx.Client) -> None:
    assert client.get("/api/routed/ping/1").status_code == 404
    response = client.get("/api/routed/ping/1", headers={"x-router": "yes"})
    assert response.status_code == 200
    assert response.json() == {"n": 1, "path": "/api/routed/ping/{n}"}
    not_allowed = client.post("/api/routed/ping/1", headers={"x-router": "yes"})
    assert (not_allowed.status_code, not_allowed.json()) == (405, {"detail": "Method Not Allowed"})
    assert not_allowed.headers["allow"] == "GET, HEAD"


def test_nested_router_overrides_are_each_asked(client: httpx.Client) -> None:
    deep = client.get("/outer/inner/deep")
    assert deep.status_code == 200
    assert deep.json() == "/outer/inner/deep"
    assert (deep.headers.get("x-outer"), deep.headers.get("x-inner")) == ("yes", "yes")
    shallow = client.get("/outer/shallow")
    assert shallow.json() == "shallow"
    assert (shallow.headers.get("x-outer"), shallow.headers.get("x-inner")) == ("yes", None)
    assert client.get("/outer/missing").status_code == 404


def test_a_route_that_never_matches_leaves_the_path_to_the_next(client: httpx.Client) -> None:
    response = client.get("/api/either")
    assert response.status_code == 200
    assert response.json() == "fallback"


def test_mount_of_routes_serves_and_names_them(client: httpx.Client) -> None:
    response = client.get("/api/mounted/items/abc")
    assert response.status_code == 200
    assert response.text == "mounted abc /api/mounted"
    assert client.get("/api/mounted/other").status_code == 404
    assert client.get("/links").json() == "/api/mounted/items/abc"


def test_host_routes_by_the_host_header(client: httpx.Client) -> None:
    response = client.get("/api/hosted/7", headers={"host": "eu.example.test"})
    assert response.status_code == 200
    assert response.text == "hosted eu 7 /api"  # an included Host's app sees the prefix
    assert client.get("/api/hosted/7", headers={"host": "example.test"}).status_code == 404
    assert client.get("/", headers={"host": "static.other.test"}).text == "static"
    assert client.get("/host-link").json() == {"path": "/api/hosted/7", "host": "eu.example.test"}


def test_add_route_endpoint_takes_the_request(client: httpx.Client) -> None:
    response = client.get("/plain?q=1")
    assert response.status_code == 200
    assert response.text == "plain 1"


def _call(app: Any, method: str, path: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    return messages


def test_router_is_an_asgi_app_routing_through_its_routes() -> None:
    router = APIRouter()

    @router.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    router.add_route("/plain", lambda request: PlainTextResponse("plain"))
    found = _call(router, "GET", "/items/5")
    assert (found[0]["status"], found[1]["body"]) == (200, b'{"item_id":5}')
    assert _call(router, "GET", "/plain")[1]["body"] == b"plain"
    assert _call(router, "GET", "/missing")[0]["status"] == 404
    not_allowed = _call(router, "POST", "/items/5")[0]
    assert not_allowed["status"] == 405
    assert dict(not_allowed["headers"])[b"allow"] == b"GET, HEAD"  # covet serves HEAD for a GET route
    assert router.matches({"type": "http", "path": "/items/5", "method": "GET"}) == (Match.NONE, {})


def test_route_matches_full_partial_none() -> None:
    router = APIRouter()

    @router.get("/items/{item_id}")
    def read_item(item_id: int) -> None: ...

    route = router.routes[0]
    match, child = route.matches({"type": "http", "path": "/items/7", "method": "GET"})
    assert (match, child["path_params"]) == (Match.FULL, {"item_id": "7"})
    assert route.matches({"type": "http", "path": "/items/7", "method": "DELETE"})[0] is Match.PARTIAL
    assert route.matches({"type": "http", "path": "/other", "method": "GET"}) == (Match.NONE, {})
    assert route.matches({"type": "websocket", "path": "/items/7"}) == (Match.NONE, {})


def test_included_route_candidates_are_the_declared_api_routes() -> None:
    leaf = APIRouter()

    @leaf.get("")
    def read_items() -> list[int]:
        return []

    parent = APIRouter()
    parent.include_router(leaf, prefix="/items")
    assert [route.path for route in _iter_included_route_candidates(parent.routes)] == [""]
