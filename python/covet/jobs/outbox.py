"""The transactional outbox: a job enqueued with a database session is a row written in that
session's transaction, so it exists exactly when the transaction commits. The worker relays
rows to the queue and deletes them in one transaction per batch; a relay that dies between the
two sends a batch twice (at least once, never lost), so jobs should be idempotent."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, func, insert, select

if TYPE_CHECKING:
    from covet.jobs.queue import Jobs

logger = logging.getLogger("covet.jobs")

metadata = MetaData()
outbox_table = Table(
    "covet_job_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(200), nullable=False, index=True),
    Column("job", String(400), nullable=False),
    Column("job_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)


class Outbox:
    def __init__(self, jobs: Jobs, database: Any) -> None:
        self.jobs = jobs
        self.database = database

    async def create_table(self) -> None:
        """Creates the table when missing (apps on Alembic may add `outbox_table` to theirs)."""
        async with self.database.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def add(self, session: Any, job: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        payload = json.dumps({"args": list(args), "kwargs": kwargs})
        await session.execute(
            insert(outbox_table).values(queue=self.jobs.queue, job=job, job_id=job_id, payload=payload)
        )
        return job_id

    async def relay_once(self, limit: int = 100) -> int:
        """Sends up to `limit` committed rows to the queue and deletes them; returns how many.
        Rows are locked with SKIP LOCKED (PostgreSQL), so several workers relay side by side."""
        table = outbox_table
        query = (
            select(table.c.id, table.c.job, table.c.job_id, table.c.payload)
            .where(table.c.queue == self.jobs.queue)
            .order_by(table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.database.transaction() as session:
            rows = (await session.execute(query)).all()
            for row in rows:
                job = self.jobs.jobs.get(row.job)
                if job is None:
                    logger.error("outbox row %s names job %r, which this app does not declare", row.id, row.job)
                    continue
                payload = json.loads(row.payload)
                await job._kicker(row.job_id).kiq(*payload["args"], **payload["kwargs"])
            if rows:
                await session.execute(delete(table).where(table.c.id.in_([row.id for row in rows])))
        return len(rows)

    async def relay(self, stop: asyncio.Event, interval: float = 0.2) -> None:
        """Relays until `stop` is set; an unreachable database or Redis is logged and retried."""
        while not stop.is_set():
            try:
                if await self.relay_once():
                    continue
            except Exception:
                logger.exception("outbox relay failed; retrying")
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass
