"""Flask's request hooks (covet.hooks) on the app and on nested routers, through TestClient,
covet's server and uvicorn: order, short-circuits, errors, teardown; and an app without hooks
keeps the engine's fast paths."""

from __future__ import annotations

from typing import Any

from covet import Covet
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.hooks_app:app", raise_server_exceptions=False)

APP_AFTER = ["app-after-2", "app-after-1"]  # reverse registration order


def test_order_through_nested_routers(client: Any) -> None:
    response = client.get("/outer/inner/deep")
    assert response.status_code == 200
    before = ["app-before-1", "app-before-2", "outer-before", "inner-before", "view"]
    assert response.json() == {"trail": before}
    # after hooks: innermost router first, the app's last (app-after-1 writes the header).
    assert response.headers["x-trail"].split(",") == [*before, "inner-after", "outer-after", "app-after-2"]
    assert client.get("/torn").json() == [["outer", None], ["app-2", None], ["app-1", None]]


def test_router_hooks_apply_to_that_router_only(client: Any) -> None:
    assert client.get("/plain").json() == {"trail": ["app-before-1", "app-before-2", "view"]}
    assert client.get("/outer/shallow").json() == {"trail": ["app-before-1", "app-before-2", "outer-before", "view"]}
    client.get("/torn")


def test_app_before_short_circuits_and_after_still_runs(client: Any) -> None:
    response = client.get("/outer/inner/deep", params={"stop": "app"})
    assert response.status_code == 403 and response.text == "stopped by app"
    # Neither the second before hook, the routers' hooks nor the view ran; the app's after did.
    assert response.headers["x-trail"].split(",") == ["app-before-1", "app-after-2"]
    assert client.get("/torn").json() == [["app-2", None], ["app-1", None]]


def test_router_before_returning_a_value_is_the_response(client: Any) -> None:
    response = client.get("/outer/inner/deep", params={"stop": "outer"})
    assert response.status_code == 200 and response.json() == {"stopped": "outer"}
    trail = ["app-before-1", "app-before-2", "outer-before", "inner-after", "outer-after", "app-after-2"]
    assert response.headers["x-trail"].split(",") == trail
    client.get("/torn")


def test_unhandled_error_in_view_reaches_teardown(client: Any) -> None:
    response = client.get("/outer/inner/deep", params={"fail": "view"})
    assert response.status_code == 500 and response.text == "Internal Server Error"
    assert response.headers["x-trail"].endswith("view,inner-after,outer-after,app-after-2")
    torn = client.get("/torn").json()
    assert torn == [["outer", "RuntimeError"], ["app-2", "RuntimeError"], ["app-1", "RuntimeError"]]


def test_handled_error_gives_teardown_none(client: Any) -> None:
    response = client.get("/outer/inner/deep", params={"fail": "404"})
    assert response.status_code == 404 and response.json() == {"detail": "no such thing"}
    assert "inner-after" in response.headers["x-trail"]
    assert client.get("/torn").json() == [["outer", None], ["app-2", None], ["app-1", None]]


def test_error_in_before_hook(client: Any) -> None:
    response = client.get("/plain", params={"fail": "before"})
    assert response.status_code == 500
    assert response.headers["x-trail"] == "app-before-1,app-before-2,app-after-2"
    assert client.get("/torn").json() == [["app-2", "RuntimeError"], ["app-1", "RuntimeError"]]


def test_not_found_goes_through_app_hooks(client: Any) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["x-trail"] == "app-before-1,app-before-2,app-after-2"
    client.get("/torn")


def test_no_hooks_no_chain() -> None:
    """Without hooks the pipeline adds nothing to the request path (the engine may run routes
    inline); with one hook every request goes through Python."""
    app = Covet()

    @app.get("/")
    async def index() -> dict[str, int]:
        return {"a": 1}

    pipeline = app.compile()
    assert pipeline.chain is None and pipeline.route_hooks == {}
    app.after_request(lambda request, response: response)
    assert app.compile().chain is not None
