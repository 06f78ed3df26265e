"""Scenario 4: one insert per request into PostgreSQL (DATABASE_URL), each row carrying the
client's token, so the harness can check after recovery that every acknowledged row exists."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from covet import Covet, Depends
from covet.db import Database


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "chaos_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)


class RowIn(BaseModel):
    token: str


db = Database(metadata=Base.metadata, pool_size=5, max_overflow=5, pool_timeout=5)
app = Covet()
db.init_app(app)
app.on_startup_handlers.append(db.create_all)


@app.post("/rows", status_code=201)
async def insert(data: RowIn, session: AsyncSession = Depends(db.session)) -> dict[str, str]:
    """Committed by the session dependency after the handler returns, as in any covet app."""
    session.add(Row(token=data.token))
    return {"token": data.token}
