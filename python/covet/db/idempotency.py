"""Idempotency keys: a retried write is answered from its first run instead of running twice.

A client that gets no answer, or a 503 whose outcome is unknown (the connection broke during
COMMIT: see `CommitOutcomeUnknown`), cannot tell whether its write was stored. If it sent an
`Idempotency-Key: <uuid>` header, it can simply send the same request again:

```python
orders_key = Idempotency(db)              # adds covet_idempotency_keys to db.metadata


@app.post("/orders", status_code=201)
async def create_order(data: OrderIn, idem: IdempotentRequest = Depends(orders_key)) -> OrderOut:
    order = to_orm(data, Order)
    idem.session.add(order)
    await idem.session.flush()
    return await idem.respond(to_schema(order, OrderOut), status_code=201)
```

The key is claimed (a row inserted) in the request's own transaction before the handler runs,
and `respond` writes the response into that row, so the handler's writes and the record of
its answer commit together or not at all. A retry with the same key then finds the row and
gets the stored response (with `Idempotent-Replayed: true`) without the handler running; one
that arrives while the first is still running waits for it on the row's lock (PostgreSQL) or
the database lock (SQLite). The same key with a different request (method, path, query or
body) is refused with 422, as the IETF idempotency-key draft says.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, delete, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from covet.db.database import Database
from covet.db.errors import Replay
from covet.encoders import jsonable_encoder
from covet.exceptions import HTTPException
from covet.requests import Request
from covet.responses import JSONResponse, Response

__all__ = ["Idempotency", "IdempotentRequest", "TABLE_NAME"]

TABLE_NAME = "covet_idempotency_keys"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces: UUIDs and the like


def _table(metadata: MetaData) -> Table:
    """The keys' table, declared once per metadata (so `create_all` and Alembic's autogenerate
    see it like the app's own tables)."""
    existing = metadata.tables.get(TABLE_NAME)
    if existing is not None:
        return existing
    return Table(
        TABLE_NAME,
        metadata,
        Column("key", String(200), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=True),  # null until the handler's answer is known
        Column("media_type", String(100), nullable=True),
        Column("body", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


def _error(msg: str, kind: str) -> list[dict[str, Any]]:
    return [{"loc": ["header", "idempotency-key"], "msg": msg, "type": kind}]


class IdempotentRequest:
    """What the dependency gives the handler: the request's session and `respond`."""

    def __init__(self, table: Table, session: AsyncSession, key: str | None) -> None:
        self.table = table
        self.session = session
        self.key = key
        self.responded = False

    async def respond(self, content: Any, status_code: int = 200) -> Response:
        """The handler's answer as a JSON response, recorded under the key in the request's
        transaction, so a retry gets exactly these bytes."""
        response = JSONResponse(jsonable_encoder(content), status_code=status_code)
        if self.key is not None:
            values = {"status": status_code, "media_type": response.media_type, "body": bytes(response.body)}
            await self.session.execute(update(self.table).where(self.table.c.key == self.key).values(**values))
        self.responded = True
        return response


class Idempotency:
    """The dependency: `idem: IdempotentRequest = Depends(Idempotency(db))`.

    `required=True` answers 400 to a request without the header; otherwise such a request runs
    unprotected. Keys are global to the table, so make them unguessable (UUIDs); `purge`
    deletes old ones (Stripe keeps them 24 hours).
    """

    def __init__(self, db: Database, *, header: str = "Idempotency-Key", required: bool = False) -> None:
        if db.metadata is None:
            raise RuntimeError("Idempotency(db) needs Database(url, metadata=Base.metadata) for its table")
        self.db = db
        self.header = header
        self.required = required
        self.table = _table(db.metadata)

    async def __call__(self, request: Request) -> IdempotentRequest:
        session = await self.db.session(request)
        key = request.headers.get(self.header)
        if key is None:
            if self.required:
                raise HTTPException(400, _error(f"The {self.header} header is required", "missing"))
            return IdempotentRequest(self.table, session, None)
        if not _KEY.match(key):
            raise HTTPException(422, _error("Expected 1 to 200 printable ASCII characters", "value_error"))
        idem = IdempotentRequest(self.table, session, key)
        await self._claim(session, key, await _fingerprint(request))
        assert request._ctx is not None  # db.session above checked it
        # Entered after the session: left before it commits, so a missing respond() rolls back.
        await request._ctx.handler_exit_stack().enter_async_context(_must_respond(idem))
        return idem

    async def _claim(self, session: AsyncSession, key: str, fingerprint: str) -> None:
        """Inserts the key's row, or answers from the row a previous request left."""
        row = {"key": key, "fingerprint": fingerprint, "created_at": datetime.now(UTC)}
        try:
            async with session.begin_nested():
                await session.execute(insert(self.table).values(**row))
            return
        except sa_exc.IntegrityError:
            pass  # the key is taken: by a finished request (waited for, if it was running)
        c = self.table.c
        found = (await session.execute(select(c.fingerprint, c.status, c.media_type, c.body).where(c.key == key))).one()
        if found.fingerprint != fingerprint:
            raise HTTPException(422, _error("This key was used for a different request", "idempotency_key_reused"))
        if found.status is None:
            raise HTTPException(409, _error("A request with this key is in progress", "idempotency_key_in_use"))
        replayed = {"Idempotent-Replayed": "true"}
        raise Replay(Response(found.body, status_code=found.status, media_type=found.media_type, headers=replayed))

    async def purge(self, older_than: timedelta = timedelta(hours=24)) -> int:
        """Deletes keys claimed more than `older_than` ago; returns how many."""
        cutoff = datetime.now(UTC) - older_than
        async with self.db.transaction() as session:
            result: Any = await session.execute(delete(self.table).where(self.table.c.created_at < cutoff))
            return int(result.rowcount or 0)


async def _fingerprint(request: Request) -> str:
    """What makes two requests "the same": method, path, query and body."""
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(await request.body())
    return digest.hexdigest()


@contextlib.asynccontextmanager
async def _must_respond(idem: IdempotentRequest) -> AsyncIterator[None]:
    """A claimed key must get its answer, or a retry would wait on "in progress" forever."""
    yield
    if not idem.responded:
        raise RuntimeError("A handler using Idempotency must return `await idem.respond(...)`")
