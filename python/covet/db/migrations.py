"""Alembic, pointed at an app's `Database`: its URL and its metadata (for autogenerate).

The migrations folder (default: `migrations/` next to the app's module) holds a two-line
`env.py` that calls `run_env` here, so the async engine, SQLite's batch mode and the URL
handling live in covet and improve with it. `covet db ...` calls these functions; plain
`alembic` works too, reading `alembic.ini` written by `init`.
"""

from __future__ import annotations

import asyncio
import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from covet.db.database import Database

__all__ = ["config_for", "init", "revision", "upgrade", "downgrade", "current", "history", "run_env"]

ENV_PY = '''"""Alembic environment: covet runs the migrations with the app's Database (covet.db)."""

from alembic import context

from covet.db.migrations import run_env

run_env(context)
'''

SCRIPT_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${repr(down_revision)}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

ALEMBIC_INI = """# Written by `covet db init`. `covet db ...` does not need this file; it lets plain
# `alembic` run these migrations too (the URL comes from the app's Database / DATABASE_URL).
[alembic]
script_location = %(here)s
covet_app = {app}
"""


def config_for(db: Database, directory: str | Path, app_spec: str = "") -> Config:
    """An Alembic `Config` for `db` and the migrations in `directory` (no .ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("covet_app", app_spec)
    config.attributes["covet_db"] = db
    return config


def init(db: Database, directory: str | Path, app_spec: str = "", ini: str | Path | None = None) -> Path:
    """Creates the migrations folder (env.py, script template, versions/) and an alembic.ini."""
    directory = Path(directory)
    if (directory / "env.py").exists():
        raise FileExistsError(f"{directory} already holds migrations (env.py exists)")
    config = config_for(db, directory, app_spec)
    ini_path = Path(ini) if ini else directory / "alembic.ini"
    config.config_file_name = str(ini_path)
    with redirect_stdout(io.StringIO()):
        command.init(config, str(directory), template="generic")
    (directory / "env.py").write_text(ENV_PY)
    (directory / "script.py.mako").write_text(SCRIPT_MAKO)
    (directory / "README").unlink(missing_ok=True)
    ini_path.write_text(ALEMBIC_INI.format(app=app_spec))
    return directory


def revision(db: Database, directory: str | Path, message: str, autogenerate: bool = False) -> Any:
    return command.revision(config_for(db, directory), message=message, autogenerate=autogenerate)


def upgrade(db: Database, directory: str | Path, rev: str = "head") -> None:
    command.upgrade(config_for(db, directory), rev)


def downgrade(db: Database, directory: str | Path, rev: str = "-1") -> None:
    command.downgrade(config_for(db, directory), rev)


def current(db: Database, directory: str | Path) -> str:
    """The revision(s) the database is at, as Alembic prints them."""
    out = io.StringIO()
    config = config_for(db, directory)
    config.print_stdout = lambda text, *args: out.write((text % args if args else text) + "\n")  # type: ignore[method-assign]
    command.current(config)
    return out.getvalue()


def history(db: Database, directory: str | Path) -> str:
    out = io.StringIO()
    config = config_for(db, directory)
    config.print_stdout = lambda text, *args: out.write((text % args if args else text) + "\n")  # type: ignore[method-assign]
    command.history(config)
    return out.getvalue()


# --- what env.py runs ---------------------------------------------------------------------------


def run_env(context: Any) -> None:
    """The body of env.py: offline mode writes SQL, online mode migrates over an async engine."""
    config = context.config
    db: Database | None = config.attributes.get("covet_db")
    if db is None:
        from covet.db.loader import load_database

        db = load_database(config.get_main_option("covet_app"))
    options = {"target_metadata": db.metadata, "render_as_batch": db.dialect == "sqlite", "compare_type": True}
    if context.is_offline_mode():
        context.configure(url=db.url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(db.url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())
