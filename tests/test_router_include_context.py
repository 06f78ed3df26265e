"""Router inclusion (covet.route_inclusion): routes added to a router after `include_router`
are served and documented, options pass through nested inclusions, each request sees the
effective route serving it, `url_path_for` works through included routers, and low-priority
routes (frontends, app-level `BaseRoute` objects) answer only what no route matches."""

from __future__ import annotations

import httpx
import pytest

from covet import APIRouter, Covet, Depends
from covet.exceptions import FastAPIError
from covet.openapi.utils import get_openapi
from covet.route_matching import NoMatchFound
from covet.routing import RouteContext, iter_route_contexts
from covet.testclient import TestClient
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.router_inclusion:app")


def test_route_added_after_include_is_served_with_the_include_options(client: httpx.Client) -> None:
    response = client.get("/api/items/3")
    assert response.status_code == 200
    # effective path, tags (include, router, route) and dependencies (include's, router's)
    assert response.text == "3 /api/items/{item_id} include,router,route 2"
    assert response.headers["x-included"] == "yes"
    assert response.headers["x-router"] == "yes"


def test_router_included_into_an_already_included_router_is_live(client: httpx.Client) -> None:
    assert client.get("/v1/child/things").json() == ["thing"]
    operation = client.get("/openapi.json").json()["paths"]["/v1/child/things"]["get"]
    assert operation["responses"]["418"] == {"description": "Teapot"}


def test_api_route_added_after_a_frontend_wins_over_it(client: httpx.Client) -> None:
    assert client.get("/site/dashboard", headers={"accept": "text/html"}).json() == {"source": "api"}
    assert client.get("/site/other", headers={"accept": "text/html"}).text == "site shell"


def test_starlette_route_endpoint_takes_the_request(client: httpx.Client) -> None:
    response = client.get("/plain/hello")
    assert (response.status_code, response.text) == (200, "plain /plain/hello")
    assert "/plain/hello" not in client.get("/openapi.json").json()["paths"]


def test_app_route_object_answers_only_unmatched_paths(client: httpx.Client) -> None:
    response = client.get("/teapot/brew")
    assert (response.status_code, response.text) == (418, "short and stout")
    assert client.get("/nowhere").status_code == 404


def test_openapi_and_routing_follow_routes_added_after_the_first_request() -> None:
    router = APIRouter()
    app = Covet()
    app.include_router(router, prefix="/api", tags=["included"])
    tc = TestClient(app)
    assert "/api/later" not in tc.get("/openapi.json").json()["paths"]
    assert tc.get("/api/later").status_code == 404

    @router.get("/later", name="later")
    def read_later() -> dict[str, bool]:
        return {"later": True}

    assert tc.get("/api/later").json() == {"later": True}
    assert tc.get("/openapi.json").json()["paths"]["/api/later"]["get"]["tags"] == ["included"]
    assert app.url_path_for("later") == "/api/later"


def test_route_contexts_list_effective_routes_for_a_custom_document() -> None:
    router = APIRouter()

    @router.get("/public/{item_id}", tags=["public"])
    def read_public(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @router.get("/private")
    def read_private() -> dict[str, bool]:
        return {"private": True}

    app = Covet()
    app.include_router(router, prefix="/api")
    contexts = [c for c in iter_route_contexts(app.routes) if "public" in c.tags]
    assert [type(c) for c in contexts] == [RouteContext]
    context = contexts[0]
    assert (context.path, context.methods, context.endpoint) == ("/api/public/{item_id}", {"GET"}, read_public)
    assert context.original_route is router.routes[0]
    schema = get_openapi(title="Public", version="1", routes=contexts)
    assert set(schema["paths"]) == {"/api/public/{item_id}"}
    # app.routes holds the inclusion itself; the document expands it
    assert set(get_openapi(title="All", version="1", routes=app.routes)["paths"]) == {
        "/api/public/{item_id}",
        "/api/private",
    }


def test_url_path_for_through_repeated_inclusions() -> None:
    router = APIRouter()

    @router.get("/items/{item_id}", name="read_item")
    def read_item(item_id: str) -> str:
        return item_id

    parent = APIRouter()
    parent.include_router(router, prefix="/v1")
    parent.include_router(router, prefix="/v2")
    assert parent.url_path_for("read_item", item_id="abc") == "/v1/items/abc"
    assert parent.routes[1].url_path_for("read_item", item_id="abc") == "/v2/items/abc"
    with pytest.raises(NoMatchFound):
        parent.url_path_for("read_item")  # a parameter missing
    app = Covet()
    app.include_router(parent, prefix="/x")
    paths = {"/x/v1/items/1", "/x/v2/items/1"}
    assert {TestClient(app).get(p).json() for p in paths} == {"1"}


def test_inclusion_cycles_and_unreachable_routes_are_refused() -> None:
    parent, child, grandchild = APIRouter(), APIRouter(), APIRouter()
    parent.include_router(child, prefix="/child")
    child.include_router(grandchild, prefix="/grandchild")
    with pytest.raises(AssertionError, match="already includes this router"):
        grandchild.include_router(parent, prefix="/parent")
    empty = APIRouter()
    empty.get("")(lambda: [])
    with pytest.raises(FastAPIError, match="cannot be both empty"):
        Covet().include_router(empty)


def test_included_route_options_follow_nested_precedence() -> None:
    def dep() -> None:
        return None

    inner = APIRouter(prefix="/items", tags=["router"], dependencies=[Depends(dep)], deprecated=None)

    @inner.get("/{item_id}", tags=["route"], responses={404: {"description": "Missing"}})
    def read_item(item_id: str) -> str:
        return item_id

    outer = APIRouter()
    outer.include_router(
        inner, prefix="/api", tags=["include"], dependencies=[Depends(dep)], deprecated=True, include_in_schema=False
    )
    app = Covet()
    app.include_router(outer)
    (context,) = iter_route_contexts(app.routes)
    assert context.path == "/api/items/{item_id}"
    assert context.tags == ["include", "router", "route"]
    assert len(context.dependencies) == 2
    assert (context.deprecated, context.include_in_schema) == (True, False)
    assert TestClient(app).get("/api/items/x").json() == "x"


def test_low_priority_route_of_an_included_router_answers_unmatched_paths() -> None:
    def read_low(item_id: str) -> str:
        return f"low {item_id}"

    router = APIRouter()
    router._low_priority_routes.append(router.route_class("/low/{item_id}", read_low))
    router._mark_routes_changed()
    app = Covet()

    @app.get("/prefix/low/special")
    def read_special() -> str:
        return "special"

    app.include_router(router, prefix="/prefix")
    tc = TestClient(app)
    assert tc.get("/prefix/low/abc").json() == "low abc"
    assert tc.get("/prefix/low/special").json() == "special"  # a normal route wins
    assert tc.post("/prefix/low/abc").status_code == 405


def test_an_app_keeps_no_router_it_includes_alive_the_other_way() -> None:
    import gc
    import weakref

    router = APIRouter()
    app = Covet()
    app.include_router(router)
    gone = weakref.ref(app)
    del app
    gc.collect()
    assert gone() is None
    router.get("/after")(lambda: None)  # nothing left to tell: no error
