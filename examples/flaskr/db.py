"""The SQLite database: one connection per request (opened when first asked for, closed by a
`teardown_request` hook), and the `covet init-db` command."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from covet import Request


def connect(path: str) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Sync hooks and endpoints run in the thread pool: one request may use its connection from
    # more than one thread, never from two at once.
    db = sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES, check_same_thread=False)
    db.row_factory = sqlite3.Row
    return db


def get_db(request: Request) -> sqlite3.Connection:
    """Flask's `get_db()`: the request's connection (Flask keeps it in `g`, covet in
    `request.state`)."""
    db = getattr(request.state, "db", None)
    if db is None:
        assert request.app is not None
        db = request.state.db = connect(request.app.config["DATABASE"])
    return db  # type: ignore[no-any-return]


def close_db(request: Request, exc: BaseException | None) -> None:
    db = getattr(request.state, "db", None)
    if db is not None:
        db.close()


def init_db(path: str) -> None:
    """Clears the existing data and creates new tables."""
    db = connect(path)
    try:
        db.executescript((Path(__file__).parent / "schema.sql").read_text())
    finally:
        db.close()


def init_app(app: Any) -> None:
    app.teardown_request(close_db)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Clear the existing data and create new tables."""
        init_db(app.config["DATABASE"])
        print("Initialized the database.")
