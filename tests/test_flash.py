"""Flask's flash() / get_flashed_messages() on covet's sessions, in handlers and templates,
through covet's server, uvicorn and TestClient."""

from __future__ import annotations

from typing import Any

from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.flash_app:app")


def test_flashed_messages_show_once(client: Any) -> None:
    assert client.post("/save", params={"name": "tea"}).status_code == 200
    assert client.post("/save", params={"name": "cake", "category": "error"}).status_code == 200
    assert client.get("/messages").json() == {"messages": ["Saved tea", "Saved cake"]}
    assert client.get("/messages").json() == {"messages": []}


def test_categories_and_filter(client: Any) -> None:
    client.post("/save", params={"name": "a"})
    client.post("/save", params={"name": "b", "category": "error"})
    assert client.get("/messages", params={"only": "error"}).json() == {"messages": [["error", "Saved b"]]}
    assert client.get("/messages").json() == {"messages": []}  # read (and removed) by the filtered call


def test_template_reads_them(client: Any) -> None:
    client.post("/save", params={"name": "jam", "category": "warning"})
    page = client.get("/page")
    assert page.status_code == 200
    assert '<li class="warning">Saved jam</li>' in page.text
    assert client.get("/page").text.count("<li") == 0
