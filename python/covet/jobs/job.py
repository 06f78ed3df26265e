"""One declared job: how a handler enqueues it (now, later, or with a database transaction) and
waits for its result."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from taskiq import AsyncTaskiqDecoratedTask
from taskiq.kicker import AsyncKicker

if TYPE_CHECKING:
    from covet.jobs.queue import Jobs

P = ParamSpec("P")
R = TypeVar("R")


class JobFailed(Exception):
    """The job raised on its last attempt (or timed out); `error` is what the worker saw."""

    def __init__(self, job_id: str, error: str) -> None:
        super().__init__(f"job {job_id} failed: {error}")
        self.job_id = job_id
        self.error = error


@dataclass(frozen=True)
class JobHandle(Generic[R]):
    """An enqueued job: its id, and its result once a worker has run it."""

    id: str
    _jobs: Jobs

    async def result(self, timeout: float = 30.0, poll: float = 0.05) -> R:
        """Waits for the job's final outcome: its return value, or `JobFailed`. A job still
        being retried has no outcome yet, so this keeps waiting through retries."""
        result = await self._jobs.wait_result(self.id, timeout=timeout, poll=poll)
        if result.is_err:
            raise JobFailed(self.id, repr(result.error))
        return result.return_value  # type: ignore[no-any-return]

    async def done(self) -> bool:
        return await self._jobs.has_result(self.id)


class Job(Generic[P, R]):
    """A function declared as a job. Calling it runs it here and now (tests, scripts);
    `enqueue` sends it to the queue for a worker."""

    def __init__(self, jobs: Jobs, func: Callable[P, Awaitable[R]], task: AsyncTaskiqDecoratedTask[P, R]) -> None:
        self.jobs = jobs
        self.func = func
        self.name = task.task_name
        self._task = task

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
        return self.func(*args, **kwargs)

    def _kicker(self, job_id: str) -> AsyncKicker[P, R]:
        return self._task.kicker().with_task_id(job_id)

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> JobHandle[R]:
        """Sends the job to the queue now; a worker runs it once (again after a crash)."""
        await self.jobs.ready()
        job_id = uuid.uuid4().hex
        await self._kicker(job_id).kiq(*args, **kwargs)
        return JobHandle(job_id, self.jobs)

    async def enqueue_at(self, when: datetime.datetime, *args: P.args, **kwargs: P.kwargs) -> JobHandle[R]:
        """Runs the job at `when` (an aware datetime; naive ones are taken as UTC). The worker
        started with `--scheduler` moves it to the queue at that second."""
        await self.jobs.ready()
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        job_id = uuid.uuid4().hex
        await self._kicker(job_id).schedule_by_time(self.jobs.schedules, when, *args, **kwargs)
        return JobHandle(job_id, self.jobs)

    async def enqueue_in(self, delay: float | datetime.timedelta, *args: P.args, **kwargs: P.kwargs) -> JobHandle[R]:
        """Runs the job `delay` (seconds or a timedelta) from now: see `enqueue_at`."""
        if not isinstance(delay, datetime.timedelta):
            delay = datetime.timedelta(seconds=delay)
        when = datetime.datetime.now(datetime.UTC) + delay
        return await self.enqueue_at(when, *args, **kwargs)

    async def enqueue_with(self, session: Any, *args: P.args, **kwargs: P.kwargs) -> JobHandle[R]:
        """Writes the job into the outbox table through `session` (a covet.db session): it
        reaches the queue only if that transaction commits, and then even if this process dies
        right after the commit (the worker relays the outbox)."""
        return JobHandle(await self.jobs.outbox.add(session, self.name, args, kwargs), self.jobs)
