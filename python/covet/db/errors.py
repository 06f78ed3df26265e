"""Database errors as HTTP answers: what went wrong in the client's terms, never the SQL.

- a unique constraint: 409, naming the field in FastAPI's error shape;
- a foreign key: 422 when the written row points at a row that does not exist (the client
  named something unknown), 409 when a delete or update would orphan rows still referring to it;
- a NOT NULL or CHECK constraint: 422;
- the database unreachable, or no pooled connection free in time: 503 with Retry-After;
- the connection lost while COMMIT was in flight (`CommitOutcomeUnknown`): 503 with a body
  saying the outcome is unknown, since the row may have been stored.

The driver's text (SQL, parameters, server messages) goes to the log only. Both asyncpg's and
SQLite's error shapes are read: asyncpg gives an SQLSTATE and a "Key (email)=(...)" detail,
SQLite a message such as "UNIQUE constraint failed: users.email".

SQLAlchemy is not imported here: an app on the lean path alone (`db.connection()` with
asyncpg) never loads it (about 19 MiB per worker). An exception can only be SQLAlchemy's once
SQLAlchemy is loaded, so the checks look for its `exc` module among those already imported,
and its handler is installed when something loads it (`install_sqlalchemy_handler`).
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from covet.requests import Request
from covet.responses import JSONResponse, Response

__all__ = [
    "CommitOutcomeUnknown",
    "DatabaseError",
    "PoolTimeout",
    "Replay",
    "connection_broken",
    "describe",
    "install_error_handlers",
    "never_sent",
]

logger = logging.getLogger("covet.db")

_PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=")
_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<cols>.+)$")
_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_DRIVER_CONNECTION_ERRORS = {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError"}
# asyncpg's client-side errors that mean the connection is unusable (protocol state lost, socket
# closed); its other InterfaceErrors (a wrong argument count) are bugs in the caller: 500.
_ASYNCPG_BROKEN = ("connection is closed", "another operation is in progress", "connection was closed")
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


class CommitOutcomeUnknown(Exception):
    """The connection broke while COMMIT was in flight: the database may have stored the
    transaction or not, and nobody on this side can tell. Answered 503 with
    `"outcome": "unknown"`, so a client can tell it from a write known to have failed."""

    body = {
        "detail": "The database connection was lost while committing: the change may or may not have been saved",
        "outcome": "unknown",
    }


class PoolTimeout(TimeoutError):
    """No pooled connection came free within `pool_timeout` (answered 503). Raised by the lean
    path's pool when SQLAlchemy is not loaded; when it is, that pool raises SQLAlchemy's
    `TimeoutError`, as its sessions' pool does."""


def _sa_exc() -> ModuleType | None:
    """`sqlalchemy.exc` if SQLAlchemy is loaded (no exception can be one of its otherwise)."""
    return sys.modules.get("sqlalchemy.exc")


def pool_timeout(message: str) -> Exception:
    """The error for a wait past `pool_timeout`: SQLAlchemy's own when it is loaded."""
    sa_exc = _sa_exc()
    return sa_exc.TimeoutError(message) if sa_exc is not None else PoolTimeout(message)


def is_pool_timeout(exc: BaseException) -> bool:
    sa_exc = _sa_exc()
    return isinstance(exc, PoolTimeout) or (sa_exc is not None and isinstance(exc, sa_exc.TimeoutError))


class Replay(Exception):
    """Raised by a dependency to answer with a response it already has (an idempotent retry)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class DatabaseError:
    """How a database exception is answered."""

    status: int
    kind: str  # unique_violation, foreign_key_violation, not_null_violation, check_violation, unavailable
    fields: list[str] = field(default_factory=list)
    deleting: bool = False

    def body(self) -> dict[str, Any]:
        if self.status == 503:
            return {"detail": "The database is unavailable, try again later"}
        msg = _MESSAGES[self.kind] if not self.deleting else "This row is still referred to by other rows"
        locs = [["body", name] for name in self.fields] or [["body"]]
        return {"detail": [{"loc": loc, "msg": msg, "type": self.kind} for loc in locs]}


_MESSAGES = {
    "unique_violation": "A record with this value already exists",
    "foreign_key_violation": "Refers to a record that does not exist",
    "not_null_violation": "Field required",
    "check_violation": "Value not allowed",
}


def describe(exc: BaseException) -> DatabaseError | None:
    """The answer for a database exception, or None for one that is a server bug (500)."""
    if is_pool_timeout(exc):  # no pooled connection came free in time
        return DatabaseError(503, "unavailable")
    sa_exc = _sa_exc()
    if sa_exc is not None and isinstance(exc, sa_exc.IntegrityError):
        return _integrity(exc)
    if isinstance(exc, ConnectionError | TimeoutError) or _unavailable(exc):
        return DatabaseError(503, "unavailable")
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, the DBAPI's (`orig`) and the driver's underneath (asyncpg's)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < 6:
        out.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    return out


def _sqlstate(exc: BaseException) -> str:
    for cause in _causes(exc):
        code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


def _unavailable(exc: BaseException) -> bool:
    return connection_broken(exc) or _sqlite_unavailable(exc)


def connection_broken(exc: BaseException) -> bool:
    """True when `exc` says the connection to the server is gone or unusable (not SQLite's
    busy database, not an error in the SQL): such a connection must never be used again."""
    sa_exc = _sa_exc()
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if _sqlstate(exc).startswith(_CONNECTION_SQLSTATES):
        return True
    for cause in _causes(exc):
        if isinstance(cause, OSError) or type(cause).__name__ in _DRIVER_CONNECTION_ERRORS:
            return True
        if type(cause).__module__.startswith("asyncpg"):
            if type(cause).__name__ == "InternalClientError":
                return True
            if type(cause).__name__ == "InterfaceError" and any(t in str(cause) for t in _ASYNCPG_BROKEN):
                return True
    return False


def never_sent(exc: BaseException) -> bool:
    """True when asyncpg refused to send anything because the connection was already closed:
    a COMMIT that fails this way is known not to have happened."""
    return any(
        type(c).__module__.startswith("asyncpg") and str(c).startswith("connection is closed") for c in _causes(exc)
    )


def _sqlite_unavailable(exc: BaseException) -> bool:
    sa_exc = _sa_exc()
    if sa_exc is None or not isinstance(exc, sa_exc.OperationalError):
        return False
    return str(exc.orig).lower().startswith(_SQLITE_UNAVAILABLE)


def _integrity(exc: Any) -> DatabaseError:
    """A SQLAlchemy IntegrityError's answer."""
    state = _sqlstate(exc)
    text = " ".join(str(getattr(c, "detail", "") or "") for c in _causes(exc))
    message = str(exc.orig)
    statement = (exc.statement or "").lstrip().upper()
    if state == "23505" or "UNIQUE constraint failed" in message:
        return DatabaseError(409, "unique_violation", _fields(text, message))
    if state == "23503" or "FOREIGN KEY constraint failed" in message:
        deleting = "still referenced" in text or statement.startswith("DELETE")
        if deleting:
            return DatabaseError(409, "foreign_key_violation", deleting=True)
        return DatabaseError(422, "foreign_key_violation", _fields(text, message))
    if state == "23502" or "NOT NULL constraint failed" in message:
        column = next((getattr(c, "column_name", None) for c in _causes(exc) if getattr(c, "column_name", None)), None)
        return DatabaseError(422, "not_null_violation", [column] if column else _fields(text, message))
    return DatabaseError(422, "check_violation")


def _fields(pg_detail: str, sqlite_message: str) -> list[str]:
    """Column names from asyncpg's "Key (a, b)=(...)" or SQLite's "failed: t.a, t.b"."""
    match = _PG_KEY.search(pg_detail)
    if match:
        return [c.strip().strip('"') for c in match.group("cols").split(",")]
    match = _SQLITE_COLUMNS.search(sqlite_message)
    if match:
        return [c.strip().rsplit(".", 1)[-1] for c in match.group("cols").split(",")]
    return []


def install_error_handlers(app: Any, db: Any) -> None:
    """Answers database errors (SQLAlchemy's, a refused connection, asyncpg's, a pool timeout)
    on `app` as described above. SQLAlchemy's handler is added now if SQLAlchemy is loaded, else
    by `install_sqlalchemy_handler` when `db` loads it."""
    handler = _error_handler(db)

    async def unknown_outcome(request: Request, exc: Exception) -> JSONResponse:
        logger.error(
            "%s %s: database connection lost during COMMIT, outcome unknown (503): %s",
            request.method,
            request.url.path,
            exc.__cause__ or exc,
        )
        return JSONResponse(CommitOutcomeUnknown.body, status_code=503, headers={"Retry-After": str(db.retry_after)})

    async def replay(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Replay)
        return exc.response

    app.add_exception_handler(CommitOutcomeUnknown, unknown_outcome)
    app.add_exception_handler(Replay, replay)
    app.add_exception_handler(PoolTimeout, handler)
    sa_exc = _sa_exc()
    if sa_exc is not None:
        app.add_exception_handler(sa_exc.SQLAlchemyError, handler)
    # Opening a connection is not wrapped by SQLAlchemy: a refused socket arrives as itself,
    # and PostgreSQL starting up or shutting down as asyncpg's own error.
    app.add_exception_handler(ConnectionError, handler)
    try:
        import asyncpg
    except ImportError:
        return
    app.add_exception_handler(asyncpg.PostgresError, handler)
    # A connection broken mid-operation (a fast stop's FATAL read before its end of file).
    app.add_exception_handler(asyncpg.InterfaceError, handler)
    app.add_exception_handler(asyncpg.InternalClientError, handler)


def install_sqlalchemy_handler(app: Any, db: Any) -> None:
    """Answers SQLAlchemy's errors on `app` once `db` has loaded SQLAlchemy, unless the app
    has a handler of its own for them. Written into the handler table directly (it is read per
    exception), as this may run while the app serves: SQLAlchemy's errors change nothing the
    engine was told at startup."""
    from sqlalchemy import exc as sa_exc

    app.exception_handlers.setdefault(sa_exc.SQLAlchemyError, _error_handler(db))


def _error_handler(db: Any) -> Any:
    """The handler answering `describe(exc)`, counting pool timeouts on `db`."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        answer = describe(exc)
        if answer is None:
            logger.error("Database error in %s %s", request.method, request.url.path, exc_info=exc)
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        if is_pool_timeout(exc):
            db.pool_timeouts += 1
        level = logging.ERROR if answer.status == 503 else logging.INFO
        logger.log(
            level,
            "%s %s: database %s (%d): %s",
            request.method,
            request.url.path,
            answer.kind,
            answer.status,
            exc,
        )
        headers = {"Retry-After": str(db.retry_after)} if answer.status == 503 else None
        return JSONResponse(answer.body(), status_code=answer.status, headers=headers)

    return handler
