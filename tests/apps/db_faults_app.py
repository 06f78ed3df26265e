"""The app the database fault tests drive (tests/test_db_commit_outcome.py,
tests/test_db_idempotency.py, tests/test_db_pool_faults.py): inserts through a session, with
and without an idempotency key, and reads through the lean pool. DATABASE_URL picks the
backend; the tables are created at startup. Pre-ping is off, as in the benchmark app, so a
dead pooled connection is met by a request rather than weeded out before it."""

from __future__ import annotations

import os

from pydantic import BaseModel
from sqlalchemy import String, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from covet import Covet, Depends, HTTPException
from covet.db import Database, Idempotency, IdempotentRequest
from covet.responses import JSONResponse, Response


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))


class ItemIn(BaseModel):
    title: str


def create_app(url: str | None = None) -> tuple[Covet, Database]:
    db = Database(url, metadata=Base.metadata, pool_size=4, max_overflow=4, pool_timeout=5, pool_pre_ping=False)
    app = Covet()
    db.init_app(app)
    app.on_startup_handlers.append(db.create_all)
    item_key = Idempotency(db)

    @app.post("/items", status_code=201)
    async def create_item(data: ItemIn, idem: IdempotentRequest = Depends(item_key)) -> Response:
        item = Item(title=data.title)
        idem.session.add(item)
        await idem.session.flush()
        if data.title == "fail":
            raise HTTPException(400, "failed after writing")
        if data.title == "forget":
            return JSONResponse({"id": item.id})  # not respond(): a bug the helper refuses
        return await idem.respond({"id": item.id, "title": item.title}, status_code=201)

    @app.post("/items/plain", status_code=201)
    async def create_plain(data: ItemIn, session: AsyncSession = Depends(db.session)) -> dict[str, int]:
        item = Item(title=data.title)
        session.add(item)
        await session.flush()
        return {"id": item.id}

    @app.post("/items/slow", status_code=201)
    async def create_slow(data: ItemIn, session: AsyncSession = Depends(db.session)) -> dict[str, int]:
        """Writes, then waits in the database before COMMIT: a kill now is a known rollback."""
        item = Item(title=data.title)
        session.add(item)
        await session.flush()
        await session.execute(text("SELECT pg_sleep(30)"))
        return {"id": item.id}

    @app.get("/items/count")
    async def count(session: AsyncSession = Depends(db.session)) -> dict[str, int]:
        return {"count": await session.scalar(select(func.count()).select_from(Item)) or 0}

    @app.get("/lean/count")
    async def lean_count() -> dict[str, int]:
        async with db.connection() as conn:
            return {"count": await conn.fetchval("SELECT count(*) FROM items, pg_sleep(0.005)")}

    return app, db


app, db = create_app(os.environ.get("DATABASE_URL"))
