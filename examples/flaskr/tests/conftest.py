"""Fixtures of Flask's tutorial tests: an app with a database of its own holding two users and
one post, a TestClient, and `auth` to log in and out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from covet import Covet
from covet.passwords import hash_password
from covet.testclient import TestClient
from examples.flaskr.app import create_app
from examples.flaskr.db import connect, init_db


@pytest.fixture
def app(tmp_path: Path) -> Covet:
    path = str(tmp_path / "flaskr.sqlite")
    init_db(path)
    db = connect(path)
    db.executemany(
        "INSERT INTO user (username, password) VALUES (?, ?)",
        [("test", hash_password("test")), ("other", hash_password("other"))],
    )
    db.execute(
        "INSERT INTO post (title, body, author_id, created) VALUES (?, ?, ?, ?)",
        ("test title", "test\nbody", 1, "2018-01-01 00:00:00"),
    )
    db.commit()
    db.close()
    return create_app({"DATABASE": path, "SECRET_KEY": "test-secret"})


@pytest.fixture
def client(app: Covet) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


class AuthActions:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def login(self, username: str = "test", password: str = "test") -> httpx.Response:
        return self.client.post("/auth/login", data={"username": username, "password": password})

    def logout(self) -> httpx.Response:
        return self.client.get("/auth/logout")


@pytest.fixture
def auth(client: TestClient) -> AuthActions:
    return AuthActions(client)
