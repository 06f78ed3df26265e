"""Body, form and file parameters read, reported and documented by their `validation_alias`;
`x: T = Body()` declarations; Annotated metadata beside `Body()`/`Form()`. Through TestClient,
`covet run` and uvicorn (FastAPI's behaviour, issue 16)."""

from __future__ import annotations

import httpx

from tests.apps.body_params import app
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.body_params:app")


def _missing(*loc: str) -> dict:
    return {"detail": [{"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}]}


def test_body_field_is_read_and_reported_by_its_validation_alias(client: httpx.Client) -> None:
    assert client.post("/body/validation-alias", json={"p_val": "x"}).json() == {"p": "x"}
    for wrong in ({"p": "x"}, {"p_alias": "x"}):
        r = client.post("/body/validation-alias", json=wrong)
        assert r.status_code == 422
        assert r.json() == _missing("body", "p_val")


def test_form_and_file_fields_are_read_and_reported_by_their_validation_alias(client: httpx.Client) -> None:
    assert client.post("/form/validation-alias", data={"p_val": ["a", "b"]}).json() == {"p": ["a", "b"]}
    r = client.post("/form/validation-alias", data={"p": ["a", "b"]})
    assert r.status_code == 422
    assert r.json() == _missing("body", "p_val")
    assert client.post("/file/validation-alias", files={"p_val": ("f.txt", b"hello")}).json() == {"size": 5}
    r = client.post("/file/validation-alias", files={"p_alias": ("f.txt", b"hello")})
    assert r.json() == _missing("body", "p_val")


def test_openapi_names_body_form_and_file_fields_by_validation_alias() -> None:
    schemas = app.openapi()["components"]["schemas"]
    for route in ("body_validation_alias", "form_validation_alias", "file_validation_alias"):
        (name,) = [n for n in schemas if n.startswith(f"Body_{route}")]
        assert list(schemas[name]["properties"]) == ["p_val"]
        assert schemas[name]["required"] == ["p_val"]
        assert schemas[name]["properties"]["p_val"]["title"] == "P Val"


def test_alias_choices_are_tried_in_order_and_the_first_names_the_value(client: httpx.Client) -> None:
    assert client.post("/body/choices", json={"p2": "b", "q": 1}).json() == {"p": "b", "q": 1}
    assert client.post("/body/choices", json={"p1": "a", "p2": "b", "q": 1}).json() == {"p": "a", "q": 1}
    r = client.post("/body/choices", json={"p": "a", "q": 1})
    assert r.json() == _missing("body", "p1")
    # A bad value is reported under the name it came by.
    r = client.post("/body/choices", json={"p2": 3, "q": 1})
    assert r.json()["detail"][0]["loc"] == ["body", "p2"]
    # An AliasPath names no request key: the value is read by its name, as FastAPI does.
    assert client.post("/body/choices", json={"p1": "a", "ignored": [1]}).json() == _missing("body", "q")
    r = client.post("/form/choices", data={"p2": ["x", "y"]}, files={"f2": ("f", b"abc")})
    assert r.json() == {"p": ["x", "y"], "f": "abc"}
    assert client.post("/form/choices", data={"p": "x"}).json() == _missing("body", "p1")
    schemas = app.openapi()["components"]["schemas"]
    assert list(schemas["Body_body_choices_body_choices_post"]["properties"]) == ["p1", "q"]
    assert list(schemas["Body_form_choices_form_choices_post"]["properties"]) == ["p1", "f1"]


def test_body_declared_as_default_is_required_and_keeps_its_media_type(client: httpx.Client) -> None:
    r = client.post("/shops", json={})
    assert r.status_code == 422
    assert r.json() == _missing("body", "shop")
    r = client.post("/shops", json={"shop": {"name": "s"}})
    assert r.json() == {"shop": {"name": "s"}, "tags": []}
    body = app.openapi()["paths"]["/shops"]["post"]["requestBody"]
    assert body["required"] is True
    (media,) = body["content"]
    assert media == "application/vnd.api+json"
    ref = body["content"][media]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert app.openapi()["components"]["schemas"][ref]["required"] == ["shop"]


def test_annotated_discriminator_beside_body_validates_and_documents(client: httpx.Client) -> None:
    r = client.post("/pet", json={"pet_type": "dog", "barks": 2.5})
    assert r.json() == {"kind": "Dog", "pet": {"pet_type": "dog", "barks": 2.5}}
    # The discriminator picks Dog, so a dog without barks is refused (a plain union took a Cat).
    r = client.post("/pet", json={"pet_type": "dog", "meows": 2})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "dog", "barks"]
    schema = app.openapi()["paths"]["/pet"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "oneOf" in schema


def test_json_form_field_is_one_json_text(client: httpx.Client) -> None:
    r = client.post("/form/json", data={"items": '["abc", "def"]'})
    assert r.status_code == 200
    assert r.json() == ["abc", "def"]
    r = client.post("/form/json", data={"items": "[oops"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_body_values_of_dependencies_share_one_embedded_body(client: httpx.Client) -> None:
    r = client.post("/body/with-dependency", json={"item": {"name": "a", "price": 1}, "token": "t"})
    assert r.json() == {"item": {"name": "a", "price": 1.0}, "token": "t"}
    r = client.post("/body/with-dependency", json={"name": "a", "price": 1})
    assert r.status_code == 422
    assert r.json() == {"detail": [_missing("body", "token")["detail"][0], _missing("body", "item")["detail"][0]]}
    body = app.openapi()["components"]["schemas"]["Body_body_with_dependency_body_with_dependency_post"]
    assert set(body["properties"]) == {"item", "token"}


def test_optional_model_in_a_body_object_has_no_generated_title(client: httpx.Client) -> None:
    assert client.post("/body/optional-model", json={}).json() == {"item": None}
    body = app.openapi()["components"]["schemas"]["Body_body_optional_model_body_optional_model_post"]
    assert body["properties"]["item"] == {"anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]}


def test_form_fields_document_the_media_type_they_declare(client: httpx.Client) -> None:
    r = client.post("/form/declared-multipart", files={"x": (None, "1"), "y": (None, "2")})
    assert r.json() == {"x": "1", "y": "2"}
    body = app.openapi()["paths"]["/form/declared-multipart"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
