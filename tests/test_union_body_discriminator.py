"""A body declared as a union of models with pydantic's own `Field(discriminator=...)` in
`Annotated` (no `Body()`): read from the JSON body, validated by the discriminator, and
documented with the discriminator's mapping, as FastAPI does (issue 16). Through TestClient,
`covet run` and uvicorn."""

from __future__ import annotations

import httpx

from tests.apps.body_params import app
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.body_params:app")


def test_the_discriminator_picks_the_model(client: httpx.Client) -> None:
    r = client.post("/items/discriminated?q=a", json={"value": "first", "price": 100})
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "FirstItem", "item": {"value": "first", "price": 100}, "q": "a"}
    r = client.post("/items/discriminated?q=b", json={"value": "other", "price": 100.5})
    assert r.json() == {"kind": "OtherItem", "item": {"value": "other", "price": 100.5}, "q": "b"}


def test_an_unknown_tag_is_one_clear_422(client: httpx.Client) -> None:
    r = client.post("/items/discriminated?q=a", json={"value": "third", "price": 1})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["type"] == "union_tag_invalid"
    assert error["loc"] == ["body"]
    # A field of the tagged model is reported under the tag.
    r = client.post("/items/discriminated?q=a", json={"value": "first", "price": "x"})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "first", "price"]]


def test_the_document_carries_the_mapping_and_the_field_description_stays_in_the_schema() -> None:
    operation = app.openapi()["paths"]["/items/discriminated"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["discriminator"] == {
        "propertyName": "value",
        "mapping": {"first": "#/components/schemas/FirstItem", "other": "#/components/schemas/OtherItem"},
    }
    assert schema["oneOf"] == [{"$ref": "#/components/schemas/FirstItem"}, {"$ref": "#/components/schemas/OtherItem"}]
    [q] = operation["parameters"]
    # pydantic's Field(description=) describes the value's type: in the schema, not beside it
    # (Query(description=) would put it on the parameter too).
    assert q == {
        "name": "q",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "description": "Query string", "title": "Q"},
    }
