"""The 422/400 bodies of JSON bodies that fail, byte for byte as FastAPI's (issue 16): covet
validates from the raw bytes, and words its failures as FastAPI's parse-then-validate does.
Through TestClient, `covet run` and uvicorn."""

from __future__ import annotations

import httpx

from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.body_params:app")

JSON = {"content-type": "application/json"}
NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


def test_a_model_body_that_is_not_an_object(client: httpx.Client) -> None:
    for raw, value in ((b"null", "null"), (b"[1]", "[1]"), (b'"s"', '"s"')):
        r = client.post("/errors/single", content=raw, headers=JSON)
        assert r.status_code == 422
        assert r.content == (
            b'{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"' + NOT_AN_OBJECT.encode() + b'",'
            b'"input":' + value.encode() + b"}]}"
        )


def test_nested_errors_use_pythons_wording(client: httpx.Client) -> None:
    r = client.post("/errors/list", json={"a": 1})
    assert (
        r.content
        == b'{"detail":[{"type":"list_type","loc":["body"],"msg":"Input should be a valid list","input":{"a":1}}]}'
    )
    r = client.post("/errors/list", json=[{"name": "a"}, 3])
    assert r.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", 0, "price"], "msg": "Field required", "input": {"name": "a"}},
            {"type": "model_attributes_type", "loc": ["body", 1], "msg": NOT_AN_OBJECT, "input": 3},
        ]
    }


def test_an_embedded_body_that_is_not_an_object_misses_every_value(client: httpx.Client) -> None:
    missing = [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None} for name in ("item", "n")
    ]
    for raw in (b"[]", b"5", b"null"):
        r = client.post("/errors/embedded", content=raw, headers=JSON)
        assert r.status_code == 422
        assert r.json() == {"detail": missing}
    # No body at all: only the required values are missing.
    r = client.post("/errors/embedded", headers=JSON)
    assert r.json() == {"detail": missing[:1]}


def test_invalid_json_and_bytes_that_are_not_utf8(client: httpx.Client) -> None:
    r = client.post("/errors/single", content=b'{"name":"a",}', headers=JSON)
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 12],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            }
        ]
    }
    r = client.post("/errors/single", content=b'{"name":"\xff"}', headers=JSON)
    assert r.status_code == 400
    assert r.content == b'{"detail":"There was an error parsing the body"}'
    # The server keeps serving.
    assert client.post("/errors/single", json={"name": "a", "price": 1}).json() == {"name": "a", "price": 1.0}
