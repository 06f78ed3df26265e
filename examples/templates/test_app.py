"""The templates example through the real engine: escaping, url_for, the form round trip."""

from covet.testclient import TestClient
from examples.templates.app import app, notes


def test_page_escapes_and_links() -> None:
    with TestClient(app) as client:
        page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Notes</title>" in page.text
    assert "&lt;b&gt;this is not bold&lt;/b&gt;" in page.text
    assert 'action="http://testserver/notes"' in page.text


def test_adding_a_note_redirects_to_the_list() -> None:
    with TestClient(app) as client:
        added = client.post("/notes", data={"text": "Tom & Jerry"}, follow_redirects=False)
        assert added.status_code == 303
        assert added.headers["location"] == "/"
        assert "<li>Tom &amp; Jerry</li>" in client.get("/").text
        assert client.post("/notes", data={"text": ""}).status_code == 422
    assert notes[-1] == "Tom & Jerry"
