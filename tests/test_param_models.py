"""Parameter models read their whole request part, as FastAPI's do: the model's own fields by
their request names, every other value as an extra its `extra` policy decides about (a repeated
one as a list), and a missing field's error shows the model's whole input."""

import httpx

from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.param_models:app")


def test_query_extras_keep_repeated_values(client: httpx.Client) -> None:
    r = client.get("/query-open", params=[("param", "1"), ("param2", "4"), ("param2", "5"), ("one", "x")])
    assert r.status_code == 200, r.text
    assert r.json() == {"param": "1", "param2": ["4", "5"], "one": "x"}


def test_header_extras_reach_the_model(client: httpx.Client) -> None:
    r = client.get("/header-open", headers=[("param", "1"), ("param2", "4"), ("param2", "5")])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["param"] == "1"
    assert body["param2"] == ["4", "5"]


def test_cookie_extras_allowed_and_forbidden(client: httpx.Client) -> None:
    r = client.get("/cookie-open", headers={"cookie": "param=1; other=2"})
    assert r.status_code == 200, r.text
    assert r.json() == {"param": "1", "other": "2"}
    r = client.get("/cookie-closed", headers={"cookie": "param=1; other=2"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"type": "extra_forbidden", "loc": ["cookie", "other"], "msg": "Extra inputs are not permitted", "input": "2"}
    ]


def test_missing_field_error_shows_the_models_input(client: httpx.Client) -> None:
    r = client.get("/query-aliased", params={"param": "value"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"type": "missing", "loc": ["query", "param_alias"], "msg": "Field required", "input": {"param": "value"}}
    ]
    assert client.get("/query-aliased", params={"param_alias": "v"}).json() == {"param": "v"}


def test_header_model_prefers_the_hyphenated_header(client: httpx.Client) -> None:
    r = client.get("/auth", headers=[("x-user-id", "hyphen"), ("x_user_id", "underscore")])
    assert r.status_code == 200, r.text
    assert r.json() == {"x_user_id": "hyphen"}
    r = client.get("/auth", headers={"x_user_id": "underscore"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "x_user_id"]


def test_header_model_forbidding_extras_refuses_undeclared_headers(client: httpx.Client) -> None:
    # As in FastAPI: every header the model does not declare is an extra, Host included.
    r = client.get("/header-closed", headers={"param": "1"})
    assert r.status_code == 422
    refused = {e["loc"][1] for e in r.json()["detail"]}
    assert "host" in refused and "param" not in refused
    assert {e["type"] for e in r.json()["detail"]} == {"extra_forbidden"}
