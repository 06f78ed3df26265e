"""`Jobs`: a queue of durable jobs on Redis streams, built on taskiq and taskiq-redis.

Why these (docs/jobs.md compares them with arq, SAQ, Dramatiq and procrastinate): taskiq is
asyncio-native and kept up; its Redis stream broker acknowledges a message only after the job
ran, so a worker killed mid-job leaves the message pending and another worker claims it after
`redelivery_timeout`; results, retries with backoff, timeouts and schedules are its own. covet
adds the outbox for jobs that must follow a database commit, and `covet worker`, which runs the
app's startup so jobs use the app's database, settings and state."""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from taskiq import TaskiqResult, TaskiqScheduler
from taskiq.middlewares import SmartRetryMiddleware
from taskiq.schedule_sources import LabelScheduleSource
from taskiq_redis import RedisAsyncResultBackend

from covet.jobs.broker import StreamBroker
from covet.jobs.job import Job
from covet.jobs.schedules import Schedules

if TYPE_CHECKING:
    from covet.jobs.outbox import Outbox

P = ParamSpec("P")
R = TypeVar("R")


class Jobs:
    """A named queue: `jobs = Jobs(os.environ["REDIS_URL"], queue="shop")`, then
    `@jobs.job(retries=3, timeout=30)` on `async def` functions and `jobs.init_app(app)`.

    `redelivery_timeout` (seconds) is how long a job may stay unacknowledged before another
    worker runs it again: it must exceed the longest job's `timeout`, or a slow job runs twice.
    `database` (a covet.db `Database`) enables `job.enqueue_with(session, ...)`."""

    def __init__(
        self,
        url: str | None = None,
        *,
        queue: str = "covet",
        redelivery_timeout: float = 600.0,
        result_ttl: int = 24 * 3600,
        database: Any = None,
    ) -> None:
        self.url = url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.queue = queue
        self.redelivery_timeout = redelivery_timeout
        self.schedules = Schedules(self.url, prefix=f"covet:jobs:{queue}:schedule")
        self.broker = (
            StreamBroker(
                self.url,
                queue_name=f"covet:jobs:{queue}",
                consumer_group_name=f"covet:jobs:{queue}:workers",
                idle_timeout=int(redelivery_timeout * 1000),
                unacknowledged_lock_timeout=redelivery_timeout,
                consumer_id="0",
            )
            .with_result_backend(
                RedisAsyncResultBackend(self.url, result_ex_time=result_ttl, prefix_str=f"covet:jobs:{queue}:result")
            )
            .with_middlewares(
                SmartRetryMiddleware(default_retry_count=1, use_delay_exponent=True, schedule_source=self.schedules)
            )
        )
        self.scheduler = TaskiqScheduler(self.broker, [self.schedules, LabelScheduleSource(self.broker)])
        self.jobs: dict[str, Job[Any, Any]] = {}
        self.app: Any = None
        self._started = False
        self._start_lock = asyncio.Lock()
        self.outbox: Outbox | None = None
        if database is not None:
            from covet.jobs.outbox import Outbox

            self.outbox = Outbox(self, database)

    # --- declaring ---------------------------------------------------------------------------

    @overload
    def job(self, func: Callable[P, Awaitable[R]], /) -> Job[P, R]: ...

    @overload
    def job(
        self,
        *,
        name: str | None = None,
        retries: int = 0,
        backoff: float = 1.0,
        timeout: float | None = None,
        cron: str | None = None,
        every: float | None = None,
    ) -> Callable[[Callable[P, Awaitable[R]]], Job[P, R]]: ...

    def job(
        self,
        func: Callable[P, Awaitable[R]] | None = None,
        /,
        *,
        name: str | None = None,
        retries: int = 0,
        backoff: float = 1.0,
        timeout: float | None = None,
        cron: str | None = None,
        every: float | None = None,
    ) -> Any:
        """Declares a job. `retries` more attempts after a failure, the n-th after
        `backoff × n` seconds (at most 60); `timeout` seconds per attempt (then it counts as a
        failure); `cron` ("*/5 * * * *", UTC) or `every` (seconds, at least 1) runs it
        periodically from the worker started with `--scheduler`."""

        def declare(fn: Callable[P, Awaitable[R]]) -> Job[P, R]:
            labels: dict[str, Any] = {}
            if retries:
                labels.update(retry_on_error=True, max_retries=retries + 1, delay=backoff)
            if timeout is not None:
                labels["timeout"] = timeout
            schedule = [{"cron": cron}] if cron is not None else []
            if every is not None:
                schedule.append({"interval": max(1, round(every))})
            if schedule:
                labels["schedule"] = schedule
            task_name = name or f"{fn.__module__}:{fn.__qualname__}"
            task = self.broker.register_task(fn, task_name=task_name, **labels)
            job = Job(self, fn, task)
            functools.update_wrapper(job, fn)
            self.jobs[task_name] = job
            return job

        return declare(func) if func is not None else declare

    def init_app(self, app: Any) -> None:
        """Connects the queue at the app's startup and closes it at shutdown; `covet worker`
        finds it as `app.extensions["jobs"]`. Call it after the database's `init_app`, so the
        outbox table is created on a connected database."""
        extensions = getattr(app, "extensions", None)
        if extensions is None:
            extensions = app.extensions = {}
        extensions["jobs"] = self
        self.app = app
        app.on_startup_handlers.append(self.ready)
        app.on_shutdown_handlers.append(self.close)

    # --- lifecycle ---------------------------------------------------------------------------

    async def ready(self) -> None:
        """Opens the broker's connections once (at startup, or at the first enqueue)."""
        if self._started:
            return
        async with self._start_lock:
            if self._started:
                return
            await self.broker.startup()
            await self.schedules.startup()
            if self.outbox is not None:
                await self.outbox.create_table()
            self._started = True

    async def close(self) -> None:
        if self._started:
            self._started = False
            await self.schedules.shutdown()
            await self.broker.shutdown()

    # --- results -----------------------------------------------------------------------------

    async def has_result(self, job_id: str) -> bool:
        await self.ready()
        return bool(await self.broker.result_backend.is_result_ready(job_id))

    async def wait_result(self, job_id: str, *, timeout: float, poll: float) -> TaskiqResult[Any]:
        deadline = time.monotonic() + timeout
        while not await self.has_result(job_id):
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} has no result after {timeout} s")
            await asyncio.sleep(poll)
        return await self.broker.result_backend.get_result(job_id)
