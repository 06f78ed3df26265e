"""Flask tutorial's test_blog: the index, login required, only the author may edit or delete,
404 for a missing post, create/update/delete, and validation."""

from __future__ import annotations

import pytest

from covet import Covet
from covet.testclient import TestClient
from examples.flaskr.db import connect


def count_posts(app: Covet) -> int:
    return int(connect(app.config["DATABASE"]).execute("SELECT COUNT(id) FROM post").fetchone()[0])


def test_index(client: TestClient, auth: object) -> None:
    page = client.get("/").text
    assert "Log In" in page and "Register" in page
    auth.login()  # type: ignore[attr-defined]
    page = client.get("/").text
    assert "Log Out" in page and "test title" in page and "by test on 2018-01-01" in page
    assert "test\nbody" in page and 'href="http://testserver/1/update"' in page


@pytest.mark.parametrize("path", ["/create", "/1/update", "/1/delete"])
def test_login_required(client: TestClient, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 303 and response.headers["location"] == "/auth/login"


def test_author_required(client: TestClient, auth: object, app: Covet) -> None:
    db = connect(app.config["DATABASE"])
    db.execute("UPDATE post SET author_id = 2 WHERE id = 1")
    db.commit()
    auth.login()  # type: ignore[attr-defined]
    assert client.post("/1/update").status_code == 403
    assert client.post("/1/delete").status_code == 403
    assert "/1/update" not in client.get("/").text  # no edit link for someone else's post


@pytest.mark.parametrize("path", ["/2/update", "/2/delete"])
def test_exists_required(client: TestClient, auth: object, path: str) -> None:
    auth.login()  # type: ignore[attr-defined]
    assert client.post(path).status_code == 404


def test_create(client: TestClient, auth: object, app: Covet) -> None:
    auth.login()  # type: ignore[attr-defined]
    assert client.get("/create").status_code == 200
    client.post("/create", data={"title": "created", "body": ""})
    assert count_posts(app) == 2


def test_update(client: TestClient, auth: object, app: Covet) -> None:
    auth.login()  # type: ignore[attr-defined]
    assert client.get("/1/update").status_code == 200
    client.post("/1/update", data={"title": "updated", "body": ""})
    row = connect(app.config["DATABASE"]).execute("SELECT * FROM post WHERE id = 1").fetchone()
    assert row["title"] == "updated"


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_create_update_validate(client: TestClient, auth: object, path: str) -> None:
    auth.login()  # type: ignore[attr-defined]
    response = client.post(path, data={"title": "", "body": ""})
    assert "Title is required." in response.text


def test_delete(client: TestClient, auth: object, app: Covet) -> None:
    auth.login()  # type: ignore[attr-defined]
    response = client.post("/1/delete")
    assert response.headers["location"] == "/"
    assert connect(app.config["DATABASE"]).execute("SELECT * FROM post WHERE id = 1").fetchone() is None
