"""covet.testing, the pytest plugin covet installs: a user's project (written to a temporary
folder) uses every fixture, and its own pytest run must pass, with the plugin found through
the entry point alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP = """
import os

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from covet import Covet, Depends, WebSocket
from covet.db import Database

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String(100)))
db = Database(os.environ["DEMO_DATABASE_URL"], metadata=metadata)
app = Covet()
db.init_app(app)
app.on_startup_handlers.append(db.create_all)


def current_user() -> str:
    return "real user"


@app.get("/me")
async def me(user: str = Depends(current_user)):
    return {"user": user}


@app.post("/notes/{text}")
async def add(text: str, session: AsyncSession = Depends(db.session)):
    await session.execute(insert(notes).values(text=text))
    return {"count": (await session.execute(select(func.count()).select_from(notes))).scalar_one()}


@app.websocket("/echo")
async def echo(websocket: WebSocket):
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())
"""

CONFTEST = """
import pytest

from demo import app


@pytest.fixture
def covet_app():
    return app
"""

TESTS = """
from covet.testing import override_dependency
from demo import app, current_user


def test_client(covet_client):
    assert covet_client.get("/me").json() == {"user": "real user"}


def test_override_dependency(covet_client):
    with override_dependency(app, current_user, lambda: "stand-in"):
        assert covet_client.get("/me").json() == {"user": "stand-in"}
    assert covet_client.get("/me").json() == {"user": "real user"}
    assert app.dependency_overrides == {}


def test_db_writes_roll_back_first(covet_db_client):
    assert covet_db_client.post("/notes/a").json() == {"count": 1}
    assert covet_db_client.post("/notes/b").json() == {"count": 2}


def test_db_writes_roll_back_second(covet_db_client):
    assert covet_db_client.post("/notes/c").json() == {"count": 1}


def test_live_server(covet_server):
    with covet_server.client() as client:
        assert client.get("/me").json() == {"user": "real user"}


def test_websocket(covet_ws):
    ws = covet_ws("/echo")
    ws.send("hello")
    assert ws.recv(10) == "HELLO"


def test_redis_namespace(covet_redis):
    client = covet_redis.client()
    client.set(covet_redis.key("seen"), "1")
    assert client.get(covet_redis.key("seen")) == b"1"
    assert covet_redis.prefix.startswith("covet-test:")
"""


def test_a_project_uses_every_fixture(tmp_path: Path) -> None:
    (tmp_path / "demo.py").write_text(APP)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_demo.py").write_text(TESTS)
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DEMO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    }
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "7 passed" in out.stdout


def test_without_covet_app_the_error_says_what_to_define(tmp_path: Path) -> None:
    (tmp_path / "test_lonely.py").write_text("def test_it(covet_client):\n    pass\n")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "covet_app" in out.stdout + out.stderr
