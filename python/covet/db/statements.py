"""The lean path for hot endpoints: a SQLAlchemy Core statement compiled once, run straight on
the driver's own connection (`db.connection()`).

A session (and even `AsyncConnection.execute`) costs several times the query itself in CPU:
greenlet hops, result processing, the unit of work. For a read that returns a few columns on
every request, `db.prepare(select(...))` compiles the statement for the database's dialect
once; `fetch_one`/`fetch_all`/`execute` then hand its SQL and positional arguments to the
driver (asyncpg keeps a prepared statement per connection). Values go to the driver as they
are, rows come back as the driver's (asyncpg `Record`, a tuple for SQLite): no type
processing, no ORM. Use sessions for everything else.

`db.prepare("SELECT ... WHERE id = :id")` takes SQL text instead, with SQLAlchemy's `:name`
parameters (`text()`'s syntax), and needs no SQLAlchemy at all: the names become the driver's
placeholders (`$1` for asyncpg, `?` for SQLite) here, the SQL is otherwise sent as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql import ClauseElement

__all__ = ["PreparedStatement"]

# A quoted string or identifier (left as it is), a `::` cast, or a `:name` parameter not
# preceded by a word character or a colon (`a:b`, `x::int` are no parameters).
_TEXT_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|(?<![\w:]):(\w+)""")


class PreparedStatement:
    """A Core statement compiled for one dialect, run on a driver connection
    (`async with db.connection() as conn`)."""

    __slots__ = ("sql", "names", "defaults", "asyncpg")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self.asyncpg = dialect.driver == "asyncpg"

    @classmethod
    def from_text(cls, sql: str, driver: str) -> PreparedStatement:
        """SQL text with `:name` parameters, for `driver` ("asyncpg" numbers its placeholders,
        others take `?`). A name used twice is sent twice (asyncpg: one `$n` each time)."""
        names: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            if match.group(1) is None:  # a quoted string or a cast
                return match.group(0)
            names.append(match.group(1))
            return f"${len(names)}" if driver == "asyncpg" else "?"

        self = cls.__new__(cls)
        self.sql = _TEXT_TOKENS.sub(placeholder, sql)
        self.names = tuple(names)
        self.defaults = {}
        self.asyncpg = driver == "asyncpg"
        return self

    def args(self, params: dict[str, Any]) -> list[Any]:
        if not self.defaults:
            return [params[name] for name in self.names]
        return [params[name] if name in params else self.defaults[name] for name in self.names]

    async def fetch_one(self, conn: Any, **params: Any) -> Any:
        """The first row, or None."""
        if self.asyncpg:
            return await conn.fetchrow(self.sql, *self.args(params))
        async with conn.execute(self.sql, self.args(params)) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, conn: Any, **params: Any) -> Sequence[Any]:
        if self.asyncpg:
            return await conn.fetch(self.sql, *self.args(params))  # type: ignore[no-any-return]
        async with conn.execute(self.sql, self.args(params)) as cursor:
            return await cursor.fetchall()  # type: ignore[no-any-return]

    async def fetch_each(self, conn: Any, params: Sequence[dict[str, Any]]) -> list[Any]:
        """The first row of the statement run once per item of `params`, in order (None where
        nothing matched). asyncpg sends all the executions in one pipeline, one round trip
        instead of len(params): still one query per item, not an `IN (...)`."""
        if self.asyncpg:
            records = await conn.fetchmany(self.sql, [self.args(p) for p in params])
            if len(records) == len(params):
                return list(records)
            # A query matched no row (or several) somewhere: run them one by one instead.
        return [await self.fetch_one(conn, **p) for p in params]

    async def execute(self, conn: Any, **params: Any) -> None:
        """Runs a statement that returns no rows (autocommit unless inside `conn`'s transaction)."""
        if self.asyncpg:
            await conn.execute(self.sql, *self.args(params))
        else:
            await conn.execute(self.sql, self.args(params))
            await conn.commit()
