"""`covet worker module:app`: runs the app's jobs. It enters the app's startup (database,
settings, state), consumes the queue with at most `concurrency` jobs at a time, relays the
outbox, and with `--scheduler` moves scheduled and periodic jobs to the queue (run exactly one
scheduler). On SIGTERM/SIGINT it stops taking jobs, lets running ones finish within the
graceful timeout, and leaves anything unfinished unacknowledged for another worker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskiq.acks import AcknowledgeType
from taskiq.api import run_scheduler_task
from taskiq.receiver import Receiver

from covet.jobs.queue import Jobs

logger = logging.getLogger("covet.jobs")


def find_jobs(app: Any) -> Jobs:
    jobs = getattr(app, "extensions", {}).get("jobs")
    if not isinstance(jobs, Jobs):
        raise LookupError("this app declares no jobs queue: call jobs.init_app(app)")
    return jobs


async def run_worker(
    app: Any, *, concurrency: int = 10, scheduler: bool = False, graceful_timeout: float = 30.0
) -> int:
    jobs = find_jobs(app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    jobs.broker.is_worker_process = True
    await app.startup()
    await jobs.ready()
    receiver = Receiver(
        broker=jobs.broker,
        executor=ThreadPoolExecutor(max_workers=concurrency),
        max_async_tasks=concurrency,
        run_startup=False,
        ack_type=AcknowledgeType.WHEN_SAVED,
        wait_tasks_timeout=graceful_timeout,
    )
    consuming = asyncio.create_task(receiver.listen(stop))
    helpers: list[asyncio.Task[Any]] = []
    if jobs.outbox is not None:
        helpers.append(asyncio.create_task(jobs.outbox.relay(stop)))
    if scheduler:
        second = datetime.timedelta(seconds=1)
        helpers.append(asyncio.create_task(run_scheduler_task(jobs.scheduler, interval=second, loop_interval=second)))
    logger.info(
        "covet worker %d consuming queue %r (%d jobs declared%s)",
        os.getpid(),
        jobs.queue,
        len(jobs.jobs),
        ", scheduler" if scheduler else "",
    )
    await stop.wait()
    logger.info("covet worker %d stopping: finishing running jobs (at most %.0f s)", os.getpid(), graceful_timeout)
    with contextlib.suppress(asyncio.CancelledError):
        await consuming
    for task in helpers:
        task.cancel()
    await asyncio.gather(*helpers, return_exceptions=True)
    await jobs.close()
    await app.shutdown()
    return 0
