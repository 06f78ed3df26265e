"""The `Database` behind a "module:attribute" string, for `covet db` and for a migration
environment (env.py) run by Alembic directly; a leaf beside covet.loader, so that the migration
code never imports the command line."""

from __future__ import annotations

from covet.db.database import Database
from covet.loader import load_app

__all__ = ["load_database"]


def load_database(spec: str) -> Database:
    """The `Database` behind "module:attribute" (an app with db.init_app, or a Database)."""
    obj = load_app(spec)
    if isinstance(obj, Database):
        return obj
    db = getattr(obj, "extensions", {}).get("db")
    if db is None:
        raise SystemExit(f'Error: "{spec}" has no database: call db.init_app(app), or point --app at the Database')
    return db  # type: ignore[no-any-return]
