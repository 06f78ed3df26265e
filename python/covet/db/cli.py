"""`covet db ...`: migrations (Alembic) and seed data for an app's `Database`.

The app is `--app module:attribute` (or the COVET_APP environment variable): a `Covet` app on
which `db.init_app(app)` was called, or the `Database` itself. Migrations live in
`--directory`, by default `migrations/` next to the app's module.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from pathlib import Path

from covet.db.database import Database
from covet.db.loader import load_database

__all__ = ["main", "load_database", "run"]


def main(argv: list[str]) -> int:
    """`covet db ARGS`."""
    return run(_parser().parse_args(argv))


def _parser() -> argparse.ArgumentParser:
    db = argparse.ArgumentParser(prog="covet db", description="database migrations (Alembic) and seed data")
    db.add_argument("--app", default=os.environ.get("COVET_APP"), help='"module:attribute" (default: $COVET_APP)')
    db.add_argument("--app-dir", default=".", help="directory put first on sys.path (default: current)")
    db.add_argument("--directory", help="the migrations folder (default: migrations/ next to the app's module)")
    sub = db.add_subparsers(dest="db_command", required=True)
    sub.add_parser("init", help="set up Alembic for the app's metadata")
    rev = sub.add_parser("revision", help="create a migration")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true", help="compare the models with the database")
    up = sub.add_parser("upgrade", help="migrate forward (default: to head)")
    up.add_argument("revision", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="migrate back (default: one step)")
    down.add_argument("revision", nargs="?", default="-1")
    sub.add_parser("current", help="the revision the database is at")
    sub.add_parser("history", help="the list of migrations")
    seed = sub.add_parser("seed", help="run the app's @db.seed functions (idempotent)")
    seed.add_argument("--reset", action="store_true", help="development only: empty the schema, migrate, then seed")
    return db


def _directory(args: argparse.Namespace) -> Path:
    if args.directory:
        return Path(args.directory)
    module = importlib.import_module(args.app.partition(":")[0])
    return Path(module.__file__ or ".").resolve().parent / "migrations"


def run(args: argparse.Namespace) -> int:
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from covet.db import migrations

    if not args.app:
        print("Error: give the app with --app module:attribute (or set COVET_APP)", file=sys.stderr)
        return 2
    sys.path.insert(0, os.path.abspath(args.app_dir))
    db = load_database(args.app)
    directory = _directory(args)
    command = args.db_command
    if command not in ("init", "seed") and not (directory / "env.py").exists():
        print(f"Error: no migrations in {directory}: run `covet db init` first", file=sys.stderr)
        return 1
    if command == "init":
        migrations.init(db, directory, args.app)
        print(f"Migrations set up in {directory}; next: covet db revision --autogenerate -m 'first'")
    elif command == "revision":
        script = migrations.revision(db, directory, args.message, autogenerate=args.autogenerate)
        print(f"Created {getattr(script, 'path', script)}")
    elif command == "upgrade":
        migrations.upgrade(db, directory, args.revision)
    elif command == "downgrade":
        migrations.downgrade(db, directory, args.revision)
    elif command == "current":
        print(migrations.current(db, directory) or "(no revision applied)", end="")
    elif command == "history":
        print(migrations.history(db, directory), end="")
    elif command == "seed":
        return seed(db, directory, reset=args.reset)
    return 0


def seed(db: Database, directory: Path, *, reset: bool = False) -> int:
    """Runs the seeds in one transaction. `reset` first migrates to base and back to head (or,
    with no migrations folder, drops and creates the metadata's tables)."""
    from covet.db import migrations

    if not db.seeds:
        print("No seed functions registered (decorate them with @db.seed)", file=sys.stderr)
        return 1
    migrated = (directory / "env.py").exists()
    if reset and migrated:
        migrations.downgrade(db, directory, "base")
        migrations.upgrade(db, directory, "head")

    async def go() -> None:
        await db.connect()
        try:
            if reset and not migrated:
                await db.drop_all()
                await db.create_all()
            await db.run_seeds()
        finally:
            await db.disconnect()

    asyncio.run(go())
    print(f"Seeded {len(db.seeds)} function(s)")
    return 0
