"""The shop example through covet's real engine (TestClient): the happy paths, and the answers
a client gets when it is wrong (404, 422, 401/403)."""

from collections.abc import Iterator

import pytest

from covet.testclient import TestClient
from examples.shop.app import API_KEY, Store, app, get_store

AUTH = {"X-API-Key": API_KEY}


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client on an empty store: each test starts from nothing, whatever ran before."""
    store = Store()
    app.dependency_overrides[get_store] = lambda: store
    yield TestClient(app)
    app.dependency_overrides.clear()


def create(client: TestClient, name: str, price: float, tags: list[str] | None = None) -> dict[str, object]:
    response = client.post("/items", json={"name": name, "price": price, "tags": tags or []}, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_and_get(client: TestClient) -> None:
    created = create(client, "Teapot", 12.5, ["kitchen"])
    assert created == {"id": 1, "name": "Teapot", "price": 12.5, "tags": ["kitchen"]}
    assert client.get("/items/1").json() == created
    assert create(client, "Cup", 3)["id"] == 2


def test_list_paginates_and_filters_by_tag(client: TestClient) -> None:
    for i in range(5):
        create(client, f"item{i}", i + 1, ["even" if i % 2 == 0 else "odd", "all"])
    assert [item["id"] for item in client.get("/items").json()] == [1, 2, 3, 4, 5]
    assert [item["id"] for item in client.get("/items?offset=1&limit=2").json()] == [2, 3]
    assert [item["id"] for item in client.get("/items?tag=even").json()] == [1, 3, 5]
    assert [item["id"] for item in client.get("/items?tag=even&tag=all&limit=2").json()] == [1, 3]
    assert client.get("/items?tag=none").json() == []


def test_missing_item_is_404(client: TestClient) -> None:
    response = client.get("/items/42")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item 42 not found"}
    assert client.patch("/items/42", json={}, headers=AUTH).status_code == 404
    assert client.delete("/items/42", headers=AUTH).status_code == 404


def test_validation_errors_have_fastapis_shape(client: TestClient) -> None:
    response = client.get("/items?limit=101")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 100",
                "input": "101",
                "ctx": {"le": 100},
            }
        ]
    }
    assert client.get("/items/0").json()["detail"][0]["loc"] == ["path", "item_id"]

    response = client.post("/items", json={"name": "", "price": 0}, headers=AUTH)
    assert response.status_code == 422
    errors = {(tuple(e["loc"]), e["type"]) for e in response.json()["detail"]}
    assert errors == {(("body", "name"), "string_too_short"), (("body", "price"), "greater_than")}


def test_write_routes_need_the_api_key(client: TestClient) -> None:
    body = {"name": "Teapot", "price": 1}
    missing = client.post("/items", json=body)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Not authenticated"}
    assert missing.headers["www-authenticate"] == "APIKey"

    wrong = client.post("/items", json=body, headers={"X-API-Key": "not-the-key"})
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "Invalid API key"}

    create(client, "Teapot", 1)
    assert client.patch("/items/1", json={"price": 2}).status_code == 401
    assert client.delete("/items/1", headers={"X-API-Key": "x"}).status_code == 403
    assert client.post("/items/1/image", files={"image": ("a.png", b"x", "image/png")}).status_code == 401
    assert client.get("/items/1").json()["price"] == 1  # nothing changed


def test_partial_update_changes_only_the_fields_sent(client: TestClient) -> None:
    create(client, "Teapot", 12.5, ["kitchen"])
    response = client.patch("/items/1", json={"price": 10}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "Teapot", "price": 10.0, "tags": ["kitchen"]}
    assert client.patch("/items/1", json={}, headers=AUTH).json() == response.json()
    cleared = client.patch("/items/1", json={"tags": [], "name": "Pot"}, headers=AUTH).json()
    assert cleared == {"id": 1, "name": "Pot", "price": 10.0, "tags": []}
    assert client.patch("/items/1", json={"price": -1}, headers=AUTH).status_code == 422


def test_delete(client: TestClient) -> None:
    create(client, "Teapot", 1)
    response = client.delete("/items/1", headers=AUTH)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/items/1").status_code == 404


def test_upload_reports_size_and_type(client: TestClient) -> None:
    create(client, "Teapot", 1)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    response = client.post("/items/1/image", files={"image": ("teapot.png", data, "image/png")}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"item_id": 1, "filename": "teapot.png", "content_type": "image/png", "size": len(data)}

    missing = client.post("/items/7/image", files={"image": ("a.txt", b"x", "text/plain")}, headers=AUTH)
    assert missing.status_code == 404
    no_file = client.post("/items/1/image", data={"other": "x"}, headers=AUTH)
    assert no_file.status_code == 422
    assert no_file.json()["detail"][0]["loc"] == ["body", "image"]


def test_openapi_documents_tags_summaries_and_security(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    create_op = doc["paths"]["/items"]["post"]
    assert create_op["tags"] == ["items"]
    assert create_op["summary"] == "Create an item"
    assert create_op["security"] == [{"APIKeyHeader": []}]
    assert set(create_op["responses"]) == {"201", "401", "403", "422"}
    assert doc["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The shop's API key (`$SHOP_API_KEY`).",
    }
    assert "security" not in doc["paths"]["/items"]["get"]


def test_patch_refuses_nulls(client: TestClient) -> None:
    create(client, "Teapot", 1, ["kitchen"])
    response = client.patch("/items/1", json={"tags": None}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Value error, tags may be left out, but not null"
    assert client.get("/items/1").json()["tags"] == ["kitchen"]
