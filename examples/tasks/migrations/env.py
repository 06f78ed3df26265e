"""Alembic environment: covet runs the migrations with the app's Database (covet.db)."""

from alembic import context

from covet.db.migrations import run_env

run_env(context)
