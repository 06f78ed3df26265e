"""`alias` and `validation_alias` on query, header and cookie parameters (FastAPI's reading):
the request key is a string `validation_alias` first, then `alias`, then the name (a header's
with hyphens); that key is also the error `loc`, the OpenAPI name and the schema title."""

from __future__ import annotations

import httpx

from covet.testclient import TestClient
from tests.apps.param_aliases import app
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.param_aliases:app")


def test_query_read_by_validation_alias(client: httpx.Client) -> None:
    r = client.get("/query", params=[("q_val", "a"), ("both_val", "b"), ("tag", "1"), ("tag", "2")])
    assert r.status_code == 200, r.text
    assert r.json() == {"q": "a", "both": "b", "tags": [1, 2]}


def test_query_name_and_alias_are_not_read(client: httpx.Client) -> None:
    r = client.get("/query", params={"q": "a", "both_alias": "b"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"type": "missing", "loc": ["query", "q_val"], "msg": "Field required", "input": None}
    ]


def test_query_invalid_item_reported_under_validation_alias(client: httpx.Client) -> None:
    r = client.get("/query", params=[("q_val", "a"), ("tag", "x")])
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "tag", 0]]


def test_header_validation_alias_is_literal(client: httpx.Client) -> None:
    # An explicit validation_alias keeps its underscores; the plain name still gets hyphens.
    r = client.get("/header", headers={"x_raw_token": "t", "x-plain": "p"})
    assert r.status_code == 200, r.text
    assert r.json() == {"x_token": "t", "x_plain": "p"}
    r = client.get("/header", headers={"x-token": "t"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "x_raw_token"]


def test_cookie_validation_alias(client: httpx.Client) -> None:
    r = client.get("/cookie", headers={"cookie": "sid=abc"})
    assert r.status_code == 200, r.text
    assert r.json() == {"session": "abc"}
    r = client.get("/cookie", headers={"cookie": "session=abc"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["cookie", "sid"]


def test_query_model_reads_field_validation_alias(client: httpx.Client) -> None:
    r = client.get("/model", params={"size": "5", "sortBy": "name"})
    assert r.status_code == 200, r.text
    assert r.json() == {"page_size": 5, "sort_by": "name"}
    r = client.get("/model", params={"page_size": "5"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "size"]


def test_openapi_names_and_titles_follow_the_request_key() -> None:
    with TestClient(app) as tc:
        paths = tc.get("/openapi.json").json()["paths"]
    query = {p["name"]: p["schema"].get("title") for p in paths["/query"]["get"]["parameters"]}
    assert query == {"q_val": "Q Val", "both_val": "Both Val", "tag": "Tag"}
    header = {p["name"]: p["schema"].get("title") for p in paths["/header"]["get"]["parameters"]}
    assert header == {"x_raw_token": "X Raw Token", "x-plain": "X-Plain"}
    cookie = [p["name"] for p in paths["/cookie"]["get"]["parameters"]]
    assert cookie == ["sid"]
    model = {p["name"]: p["schema"].get("title") for p in paths["/model"]["get"]["parameters"]}
    assert model == {"size": "Size", "sortBy": "Sortby"}
    trace = [p["name"] for p in paths["/header-model"]["get"]["parameters"]]
    assert trace == ["trace-id"]


def test_alias_choices_are_tried_in_order(client: httpx.Client) -> None:
    r = client.get("/choices", params={"query": "2"}, headers={"x-b": "B", "cookie": "c2=C"})
    assert r.status_code == 200, r.text
    assert r.json() == {"q": 2, "h": "B", "c": "C"}
    r = client.get("/choices", params={"q": "1", "query": "2"})
    assert r.json() == {"q": 1, "h": None, "c": None}
    r = client.get("/choices")
    assert r.status_code == 422
    assert r.json()["detail"] == [{"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}]


def test_alias_choices_document_the_first_choice() -> None:
    with TestClient(app) as tc:
        params = tc.get("/openapi.json").json()["paths"]["/choices"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["schema"]["title"]) for p in params] == [
        ("q", "query", "Q"),
        ("x_a", "header", "X A"),
        ("c1", "cookie", "C1"),
    ]
