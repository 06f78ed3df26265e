"""Checks that need the database: a row that must exist (404) and a value that must be unique
(409), both decided inside the request's own transaction.

Uniqueness is never "SELECT, then INSERT if nothing was found": two requests can both find
nothing. `save()` writes the row in a savepoint and lets the database's constraint decide; the
loser gets a 409 naming the field, and the rest of its transaction is intact.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from covet.db.errors import describe
from covet.exceptions import HTTPException, RequestValidationError
from covet.requests import Request

__all__ = ["get_or_404", "save", "find_database"]

logger = logging.getLogger("covet.db")

T = TypeVar("T")


def find_database(request: Request) -> Any:
    """The `Database` that `db.init_app(app)` registered on the request's app."""
    db = getattr(request.app, "extensions", {}).get("db")
    if db is None:
        raise RuntimeError("No database on this app: call db.init_app(app) first")
    return db


def get_or_404(model: type[T], *, param: str | None = None, db: Any = None) -> Callable[..., Awaitable[T]]:
    """A dependency loading `model` by primary key from the path, or answering 404.

    The path parameter is `param`, else `<model>_id` (e.g. `user_id` for `User`), else `id`.
    The row is loaded with the request's session (`db.session`), so the handler can change it
    and the change commits with the rest of the request.
    """
    mapper = sa_inspect(model)
    if len(mapper.primary_key) != 1:
        raise TypeError(f"get_or_404 needs a single-column primary key; {model.__name__} has {len(mapper.primary_key)}")
    column = mapper.primary_key[0]
    adapter: TypeAdapter[Any] = TypeAdapter(column.type.python_type)
    names = [param] if param else [f"{model.__name__.lower()}_id", "id", column.key]
    label = model.__name__

    async def load(request: Request) -> T:
        name = next((n for n in names if n in request.path_params), None)
        if name is None:
            raise RuntimeError(f"get_or_404({label}): the path has none of the parameters {names}")
        try:
            key = adapter.validate_python(request.path_params[name], strict=False)
        except ValidationError as exc:
            errors = [{**e, "loc": ["path", name]} for e in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None
        session = await (db or find_database(request)).session(request)
        row = await session.get(model, key)
        if row is None:
            raise HTTPException(404, f"{label} not found")
        return row

    load.__name__ = f"get_{label.lower()}_or_404"
    return load


async def save(session: AsyncSession, obj: T) -> T:
    """Adds `obj` and writes it now, in a savepoint: a unique or foreign-key violation becomes
    a 409/422 `HTTPException` naming the field, and the request's transaction goes on."""
    try:
        async with session.begin_nested():
            session.add(obj)
            await session.flush()
    except sa_exc.IntegrityError as exc:
        answer = describe(exc)
        assert answer is not None
        logger.info("save(%s): database %s (%d): %s", type(obj).__name__, answer.kind, answer.status, exc.orig)
        raise HTTPException(answer.status, answer.body()["detail"]) from exc
    return obj
