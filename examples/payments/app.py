"""A payments API where a retried POST never charges twice: the client sends an
`Idempotency-Key` header, and covet.db's `Idempotency` stores the key and the answer in the
same transaction as the payment. PostgreSQL when DATABASE_URL is set, SQLite otherwise.

    covet run examples.payments.app:app
    curl -X POST localhost:8000/payments -H 'Idempotency-Key: 5d1e...' \\
         -H 'content-type: application/json' -d '{"account": "acme", "amount_cents": 1250}'

Send the same request again with the same key (after a timeout, a dropped connection, or a 503
whose body says `"outcome": "unknown"`) and the first answer comes back, with
`Idempotent-Replayed: true`, and no second payment. The same key with another body is a 422;
no key at all is a 400 here (`required=True`). The tables, the keys' included, are created at
startup; with Alembic, `covet db revision --autogenerate` picks up `covet_idempotency_keys`
from the metadata like any other table.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from covet import Covet, Depends
from covet.db import Database, Idempotency, IdempotentRequest, to_schema
from covet.responses import Response


class Base(DeclarativeBase):
    pass


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentIn(BaseModel):
    account: str = Field(min_length=1, max_length=100)
    amount_cents: int = Field(gt=0)


class PaymentOut(PaymentIn):
    id: int
    created_at: datetime


db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./payments.db"), metadata=Base.metadata)
app = Covet(title="Payments")
db.init_app(app)
app.on_startup_handlers.append(db.create_all)
payment_key = Idempotency(db, required=True)


@app.post("/payments", status_code=201)
async def pay(data: PaymentIn, idem: IdempotentRequest = Depends(payment_key)) -> Response:
    """Runs once per key: a retry gets this answer back without running again."""
    payment = Payment(**data.model_dump(), created_at=datetime.now(UTC))
    idem.session.add(payment)
    await idem.session.flush()
    return await idem.respond(to_schema(payment, PaymentOut), status_code=201)


@app.get("/payments")
async def payments(account: str, session: AsyncSession = Depends(db.session)) -> list[PaymentOut]:
    rows = await session.scalars(select(Payment).where(Payment.account == account).order_by(Payment.id))
    return [to_schema(row, PaymentOut) for row in rows]
