"""A task/notes API on covet.db: users own tasks, stored in PostgreSQL when DATABASE_URL is
set (postgresql://...) and in SQLite (./tasks.db) otherwise.

    export COVET_APP=examples.tasks.app:app
    covet db upgrade          # create the tables (migrations in examples/tasks/migrations)
    covet db seed             # two users and a few tasks; run it again: nothing changes
    covet run examples.tasks.app:app

Shows: one session per request (commit on success, rollback on error), a duplicate email as
409, a task for an unknown owner as 422, `get_or_404`, response models read from rows, PATCH
with `exclude_unset`, keyset and offset pagination with sorting/filtering on an allow-list, a
health check reporting the pool.
"""

from __future__ import annotations

import os
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from covet import Covet, Depends, HTTPException
from covet.db import Database, Page, PageQuery, Paginator, apply_patch, get_or_404, get_or_create, save, to_orm
from examples.tasks.models import Base, Task, User

db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./tasks.db"), metadata=Base.metadata)
app = Covet(title="Tasks")
db.init_app(app)


# --- schemas ------------------------------------------------------------------------------------


class UserIn(BaseModel):
    email: str = Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=100)


class UserOut(UserIn):
    id: int


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    notes: str = ""
    done: bool = False


class TaskPatch(BaseModel):
    """Only the fields sent are changed."""

    title: str | None = Field(None, min_length=1, max_length=200)
    notes: str | None = None
    done: bool | None = None


class TaskOut(TaskIn):
    id: int
    owner_id: int
    created_at: datetime


user_or_404 = get_or_404(User)
task_or_404 = get_or_404(Task)
tasks_page = Paginator(Task, sortable=["created_at", "title", "done"], filterable=["done", "owner_id"])


# --- routes ------------------------------------------------------------------------------------


@app.get("/health")
async def health() -> dict[str, object]:
    """Up only when the database answers; the pool figures are for a metrics scraper."""
    if not await db.ping():
        raise HTTPException(503, "database unavailable", headers={"Retry-After": str(db.retry_after)})
    return {"database": "ok", "pool": db.pool_stats()}


@app.post("/users", status_code=201)
async def create_user(data: UserIn, session: AsyncSession = Depends(db.session)) -> UserOut:
    """A taken email answers 409, decided by the unique constraint (no check-then-insert)."""
    return await save(session, to_orm(data, User))  # type: ignore[return-value]


@app.get("/users/{user_id}")
async def read_user(user: User = Depends(user_or_404)) -> UserOut:
    return user  # type: ignore[return-value]


@app.delete("/users/{user_id}", status_code=204)
async def delete_user(user: User = Depends(user_or_404), session: AsyncSession = Depends(db.session)) -> None:
    """A user who still owns tasks cannot go: the foreign key answers 409 at commit."""
    await session.delete(user)


@app.post("/users/{user_id}/tasks", status_code=201)
async def create_task(user_id: int, data: TaskIn, session: AsyncSession = Depends(db.session)) -> TaskOut:
    """An unknown user_id is refused by the foreign key: 422 naming owner_id."""
    task = to_orm(data, Task, owner_id=user_id)
    session.add(task)
    await session.flush()
    return task  # type: ignore[return-value]


@app.get("/tasks")
async def list_tasks(
    page: PageQuery = Depends(tasks_page), session: AsyncSession = Depends(db.session)
) -> Page[TaskOut]:
    """`?sort=-created_at&filter[done]=false&limit=10`, then `?cursor=<next_cursor>`."""
    return await page.fetch(session)  # type: ignore[return-value]


@app.get("/tasks/{task_id}")
async def read_task(task: Task = Depends(task_or_404)) -> TaskOut:
    return task  # type: ignore[return-value]


@app.patch("/tasks/{task_id}")
async def update_task(data: TaskPatch, task: Task = Depends(task_or_404)) -> TaskOut:
    return apply_patch(task, data)  # type: ignore[return-value]


@app.delete("/tasks/{task_id}", status_code=204)
async def delete_task(task: Task = Depends(task_or_404), session: AsyncSession = Depends(db.session)) -> None:
    await session.delete(task)


# --- seed data -----------------------------------------------------------------------------------


@db.seed
async def seed_users_and_tasks(session: AsyncSession) -> None:
    """Keyed on email and (owner, title), so a second run finds everything already there."""
    ada = await get_or_create(session, User, {"email": "ada@example.com"}, {"name": "Ada"})
    alan = await get_or_create(session, User, {"email": "alan@example.com"}, {"name": "Alan"})
    for owner, title in ((ada, "Write the notes"), (ada, "Check the engine"), (alan, "Break the code")):
        await get_or_create(session, Task, {"owner_id": owner.id, "title": title})
