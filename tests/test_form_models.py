"""Form models (`Annotated[Model, Form()]`, unions of models, optional models) and the form
fields a browser leaves empty, as FastAPI reads them (issue 16). Through TestClient, `covet run`
and uvicorn."""

from __future__ import annotations

import httpx

from tests.apps.body_params import app
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.body_params:app")


def test_form_model_reads_fields_by_alias_and_answers_by_alias(client: httpx.Client) -> None:
    r = client.post("/form/model", data={"username": "u", "tags": ["x", "y"], "with": "w"})
    assert r.status_code == 200
    assert r.json() == {"username": "u", "tags": ["x", "y"], "with": "w"}
    # One value of a list field is still a list; a scalar field takes the last repeat.
    r = client.post("/form/model", data={"username": ["u1", "u2"], "tags": "x"})
    assert r.json() == {"username": "u2", "tags": ["x"], "with": "nothing"}


def test_form_model_missing_field_reports_the_form_as_its_input(client: httpx.Client) -> None:
    # The input is the form as the model read it: what was sent, and the defaults of the
    # fields left out (`with` defaults to "nothing"), as FastAPI reports it.
    r = client.post("/form/model", data={"tags": "x"})
    assert r.status_code == 422
    missing = {"type": "missing", "loc": ["body", "username"], "msg": "Field required"}
    assert r.json() == {"detail": [{**missing, "input": {"tags": ["x"], "with": "nothing"}}]}
    r = client.post("/form/model")
    assert r.status_code == 422
    assert r.json() == {"detail": [{**missing, "input": {"tags": ["a"], "with": "nothing"}}]}


def test_form_model_with_extra_forbid_refuses_unknown_fields(client: httpx.Client) -> None:
    assert client.post("/form/strict", data={"name": "n"}).json() == {"name": "n"}
    r = client.post("/form/strict", data={"name": "n", "other": "o"})
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {"type": "extra_forbidden", "loc": ["body", "other"], "msg": "Extra inputs are not permitted", "input": "o"}
        ]
    }


def test_union_of_form_models_picks_the_model_the_form_fits(client: httpx.Client) -> None:
    r = client.post("/form/union", data={"name": "n", "email": "e"})
    assert r.json() == {"kind": "UserForm", "data": {"name": "n", "email": "e"}}
    r = client.post("/form/union", data={"company_name": "c", "industry": "i"})
    assert r.json() == {"kind": "CompanyForm", "data": {"company_name": "c", "industry": "i"}}
    r = client.post("/form/union", data={"name": "n", "company_name": "c"})
    assert r.status_code == 422
    # Each branch's errors are labelled by its model, as FastAPI labels them.
    locs = [e["loc"] for e in r.json()["detail"]]
    assert locs == [["body", "UserForm", "email"], ["body", "CompanyForm", "industry"]]
    assert client.post("/form/union").status_code == 422


def test_optional_form_model_is_none_when_the_form_has_none_of_its_fields(client: httpx.Client) -> None:
    assert client.post("/form/optional-model", data={"unrelated": "x"}).json() == {"data": None}
    r = client.post("/form/optional-model", data={"name": "n", "email": "e"})
    assert r.json() == {"data": {"name": "n", "email": "e"}}
    assert client.post("/form/optional-model", data={"name": "n"}).status_code == 422


def test_empty_form_fields_take_their_defaults(client: httpx.Client) -> None:
    assert client.post("/form/defaults", data={"age": ""}).json() == {"age": None, "file": None}
    r = client.post("/form/defaults", data={"age": "3"}, files={"file": ("", b"")})
    assert r.json() == {"age": 3, "file": None}
    # An empty required field is missing, not an empty string.
    r = client.post("/form/required", data={"name": ""})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "name"]
    assert r.json()["detail"][0]["type"] == "missing"


def test_form_model_is_documented_as_the_model_itself() -> None:
    body = app.openapi()["paths"]["/form/model"]["post"]["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Profile"}
    profile = app.openapi()["components"]["schemas"]["Profile"]
    assert profile["required"] == ["username"]
    assert set(profile["properties"]) == {"username", "tags", "with"}


def test_text_where_a_file_is_expected_is_a_value_error(client: httpx.Client) -> None:
    assert client.post("/errors/upload", files={"f": ("a.txt", b"x")}).json() == {"name": "a.txt"}
    r = client.post("/errors/upload", data={"f": "text"})
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", "f"],
                "msg": "Value error, Expected UploadFile, received: <class 'str'>",
                "input": "text",
                "ctx": {"error": {}},
            }
        ]
    }


def test_form_model_beside_other_fields_reads_both_and_is_referenced_whole(client: httpx.Client) -> None:
    r = client.post("/form/model-and-field", data={"username": "u", "note": "n"})
    assert r.json() == {"profile": {"username": "u", "tags": ["a"], "with": "nothing"}, "note": "n"}
    body = app.openapi()["components"]["schemas"]["Body_form_model_and_field_form_model_and_field_post"]
    assert body["allOf"] == [{"$ref": "#/components/schemas/Profile"}]
    assert list(body["properties"]) == ["note"]
    assert body["required"] == ["note"]
