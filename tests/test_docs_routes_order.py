"""The documentation routes sit where FastAPI puts them: after the routes given to the
constructor, before every route declared later, so a catch-all user route such as
`/{name}` never shadows `/openapi.json` or `/docs`."""

from __future__ import annotations

from covet import Covet
from covet.routing import APIRoute
from covet.testclient import TestClient


def catch_all(name: str) -> dict[str, str]:
    return {"name": name}


def test_catch_all_route_does_not_shadow_the_docs() -> None:
    app = Covet()

    @app.get("/{name}")
    def item(name: str) -> dict[str, str]:
        return {"name": name}

    client = TestClient(app)
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"]["/{name}"]["get"]["operationId"] == "item__name__get"
    assert "swagger-ui" in client.get("/docs").text
    assert "redoc" in client.get("/redoc").text.lower()
    assert client.get("/other").json() == {"name": "other"}


def test_constructor_routes_come_before_the_docs() -> None:
    app = Covet(routes=[APIRoute("/{name}", catch_all)])
    client = TestClient(app)
    assert client.get("/openapi.json").json() == {"name": "openapi.json"}
    assert [r.path for r in app.routes][:2] == ["/{name}", "/openapi.json"]
