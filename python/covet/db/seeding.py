"""Seed data that can be loaded again without duplicating anything.

A seed function registered with `@db.seed` describes rows by a natural key (an email, a
slug) through `get_or_create`, so `covet db seed` run twice leaves the same data as once.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["get_or_create"]

R = TypeVar("R")


async def get_or_create(
    session: AsyncSession, model: type[R], lookup: dict[str, Any], defaults: dict[str, Any] | None = None
) -> R:
    """The row of `model` matching `lookup`, created with `lookup | defaults` when missing.
    Existing rows are updated to `defaults`, so changing seed data and re-seeding applies it."""
    stmt = select(model).filter_by(**lookup)
    row = (await session.scalars(stmt)).one_or_none()
    values = defaults or {}
    if row is None:
        row = model(**lookup, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    return row
