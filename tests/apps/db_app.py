"""The app tests/test_db*.py drive: a unique email, a foreign key, a handler that fails after
writing. DATABASE_URL picks the backend; the tables are created at startup."""

from __future__ import annotations

import os

from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from covet import Covet, Depends, HTTPException
from covet.db import Database, Page, PageQuery, Paginator, apply_patch, get_or_404, get_or_create, save, to_orm


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(default=0)


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(100))


class AccountIn(BaseModel):
    email: str
    name: str
    rank: int = 0


class AccountOut(AccountIn):
    id: int


class AccountPatch(BaseModel):
    name: str | None = None
    rank: int | None = None


class PostIn(BaseModel):
    author_id: int
    title: str


def create_app(url: str | None = None) -> tuple[Covet, Database]:
    """A new app and Database on `url` (default: DATABASE_URL, else SQLite)."""
    db = Database(url, metadata=Base.metadata, pool_size=5, max_overflow=20, pool_timeout=10)
    app = Covet()
    db.init_app(app)
    app.on_startup_handlers.append(db.create_all)
    account_or_404 = get_or_404(Account)
    accounts_page = Paginator(Account, sortable=["rank", "name"], filterable=["rank"], max_limit=50)

    @db.seed
    async def seed_accounts(session: AsyncSession) -> None:
        for i in range(3):
            await get_or_create(session, Account, {"email": f"seed{i}@example.com"}, {"name": f"Seed {i}", "rank": i})

    @app.post("/accounts", status_code=201)
    async def create_account(data: AccountIn, session: AsyncSession = Depends(db.session)) -> AccountOut:
        """Relies on the unique constraint at commit (no explicit flush)."""
        account = to_orm(data, Account)
        session.add(account)
        return account  # type: ignore[return-value]

    @app.post("/accounts/saved", status_code=201)
    async def create_account_saved(data: AccountIn, session: AsyncSession = Depends(db.session)) -> AccountOut:
        return await save(session, to_orm(data, Account))  # type: ignore[return-value]

    @app.post("/accounts/then-fail")
    async def create_then_fail(data: AccountIn, session: AsyncSession = Depends(db.session)) -> None:
        session.add(to_orm(data, Account))
        await session.flush()
        raise HTTPException(400, "changed my mind")

    @app.get("/accounts/count")
    async def count(session: AsyncSession = Depends(db.session)) -> dict[str, int]:
        return {"count": await session.scalar(select(func.count()).select_from(Account)) or 0}

    @app.get("/accounts")
    async def list_accounts(
        page: PageQuery = Depends(accounts_page), session: AsyncSession = Depends(db.session)
    ) -> Page[AccountOut]:
        return await page.fetch(session)  # type: ignore[return-value]

    @app.get("/accounts/{account_id}")
    async def read_account(account: Account = Depends(account_or_404)) -> AccountOut:
        return account  # type: ignore[return-value]

    @app.patch("/accounts/{account_id}")
    async def patch_account(data: AccountPatch, account: Account = Depends(account_or_404)) -> AccountOut:
        return apply_patch(account, data)  # type: ignore[return-value]

    @app.delete("/accounts/{account_id}", status_code=204)
    async def delete_account(
        account: Account = Depends(account_or_404), session: AsyncSession = Depends(db.session)
    ) -> None:
        await session.delete(account)

    @app.post("/posts", status_code=201)
    async def create_post(data: PostIn, session: AsyncSession = Depends(db.session)) -> dict[str, int]:
        post = to_orm(data, Post)
        session.add(post)
        await session.flush()
        return {"id": post.id}

    @app.get("/health")
    async def health() -> dict[str, object]:
        return {"ok": await db.ping(), "pool": db.pool_stats()}

    return app, db


app, db = create_app(os.environ.get("DATABASE_URL"))
