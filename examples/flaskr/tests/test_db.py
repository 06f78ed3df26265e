"""Flask tutorial's test_db: one connection per request, closed by the teardown hook; the
`covet init-db` command (registered with @app.cli.command) creates the tables."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from covet import Covet, Request
from covet.testclient import TestClient
from examples.flaskr.db import get_db

ROOT = Path(__file__).resolve().parents[3]


def test_connection_per_request_closed_at_teardown(app: Covet) -> None:
    seen: list[sqlite3.Connection] = []

    @app.get("/probe")
    def probe(request: Request) -> bool:
        db = get_db(request)
        seen.append(db)
        return db is get_db(request)

    with TestClient(app) as client:
        assert client.get("/probe").json() is True
    try:
        seen[0].execute("SELECT 1")
        raise AssertionError("the connection should be closed")
    except sqlite3.ProgrammingError as exc:
        assert "closed" in str(exc)


def test_init_db_command(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite"
    env = {**os.environ, "FLASKR_DATABASE": str(path), "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "covet", "--app", "examples.flaskr.app:app", "init-db"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Initialized" in done.stdout
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"user", "post"} <= tables
