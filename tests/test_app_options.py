"""FastAPI's application options: `strict_content_type`, an explicit HEAD route beside a GET
route and `scope["route"]` on the wire (TestClient, covet's server, uvicorn); `root_path`,
`openapi_prefix`, `openapi_external_docs`, `webhooks`, lifespans given as generators, and the
lifespan state seen by `request.state` and `TestClient.app_state`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from covet import Covet, Request
from covet.testclient import TestClient
from tests.conftest import served_three_ways, start_server

client = served_three_ways("tests.apps.app_options:app")

RAW_JSON = b'{"key": "value"}'


def test_a_json_body_without_content_type_is_refused_by_default(client: httpx.Client) -> None:
    r = client.post("/strict", content=RAW_JSON)
    assert r.status_code == 422, r.text
    assert client.post("/strict", json={"key": "value"}).json() == {"key": "value"}


def test_a_lax_router_reads_a_body_without_content_type_as_json(client: httpx.Client) -> None:
    r = client.post("/lax/items", content=RAW_JSON)
    assert (r.status_code, r.json()) == (200, {"key": "value"})


def test_a_strict_route_in_a_lax_router_stays_strict(client: httpx.Client) -> None:
    assert client.post("/lax/strict-route", content=RAW_JSON).status_code == 422
    assert client.post("/lax/strict-route", json={"key": "value"}).status_code == 200


def test_a_head_route_answers_head_before_the_get_route(client: httpx.Client) -> None:
    r = client.head("/things/abc")
    assert r.status_code == 200
    assert r.headers["x-thing-id"] == "abc"
    assert client.get("/things/abc").json() == {"thing_id": "abc"}


def test_scope_route_is_the_matched_route(client: httpx.Client) -> None:
    r = client.get("/route-of/x")
    assert r.json() == {"path": "/route-of/{name}", "name": "route_of"}


def test_openapi_prefix_is_the_root_path_and_its_server() -> None:
    with pytest.warns(DeprecationWarning):
        app = Covet(root_path="/api/v1")

    @app.get("/app")
    def read_main(request: Request) -> dict[str, Any]:
        return {"root_path": request.scope["root_path"]}

    with pytest.warns(DeprecationWarning):
        legacy = Covet(openapi_prefix="/api/v1")
    legacy.get("/app")(read_main)
    for one in (app, legacy):
        c = TestClient(one)
        assert c.get("/app").json() == {"root_path": "/api/v1"}
        assert c.get("/openapi.json").json()["servers"] == [{"url": "/api/v1"}]


def test_root_path_in_servers_can_be_turned_off() -> None:
    with pytest.warns(DeprecationWarning):
        app = Covet(root_path="/api", root_path_in_servers=False, servers=[{"url": "https://x.example"}])
    assert TestClient(app).get("/openapi.json").json()["servers"] == [{"url": "https://x.example"}]


def test_external_docs_and_webhooks_are_documented() -> None:
    docs = {"description": "More", "url": "https://docs.example.com"}
    app = Covet(openapi_external_docs=docs)

    @app.webhooks.post("new-subscription")
    def new_subscription(body: dict[str, Any]) -> None:
        """A subscription was made."""

    doc = TestClient(app).get("/openapi.json").json()
    assert doc["externalDocs"] == docs
    hook = doc["webhooks"]["new-subscription"]["post"]
    assert hook["operationId"] == "new_subscriptionnew_subscription_post"
    assert hook["description"] == "A subscription was made."
    assert "new-subscription" not in doc["paths"]
    assert TestClient(app).post("/new-subscription", json={}).status_code == 404


def test_generator_lifespans_and_their_state() -> None:
    events: list[str] = []

    def sync_lifespan(app: Covet) -> Iterator[dict[str, str]]:
        events.append("start")
        yield {"source": "sync"}
        events.append("stop")

    app = Covet(lifespan=sync_lifespan)  # type: ignore[arg-type]

    @app.get("/")
    def read(request: Request) -> dict[str, str]:
        return {"source": request.state.source}

    with TestClient(app) as c:
        assert events == ["start"]
        assert c.app_state == {"source": "sync"}
        assert c.get("/").json() == {"source": "sync"}
    assert events == ["start", "stop"]

    async def async_lifespan(app: Covet) -> AsyncIterator[None]:
        events.append("async")
        yield

    with TestClient(Covet(lifespan=async_lifespan)) as c:  # type: ignore[arg-type]
        assert events[-1] == "async"
        assert c.app_state == {}


def test_a_testclient_can_be_entered_again() -> None:
    started: list[int] = []
    app = Covet(on_startup=[lambda: started.append(1)])
    app.get("/")(lambda: {"ok": True})
    c = TestClient(app)
    for _ in range(2):
        with c:
            assert c.get("/").json() == {"ok": True}
    assert started == [1, 1]
    c.close()


@pytest.mark.parametrize("kind", ["testclient", "covet"])
def test_a_server_root_path_shows_in_scope_urls_and_servers(kind: str) -> None:
    from tests.apps.app_options import app

    if kind == "testclient":
        c: httpx.Client = TestClient(app, root_path="/api/v1")
        base = "http://testserver"
    else:
        server = start_server("tests.apps.app_options:app", "--no-access-log", "--root-path", "/api/v1/", kind="covet")
        c = server.client()
        base = server.url
    try:
        assert c.get("/where").json() == {"root_path": "/api/v1", "url_for": f"{base}/api/v1/where"}
        assert c.get("/openapi.json").json()["servers"] == [{"url": "/api/v1"}]
    finally:
        c.close()
        if kind == "covet":
            server.stop()
    # The document itself is not changed for the next client.
    assert "servers" not in TestClient(app).get("/openapi.json").json()
