"""covet.jobs on real Redis (streams) and PostgreSQL (the outbox), through `covet run` and
`covet worker` processes: results, retries with backoff, timeouts, delayed and periodic jobs,
transactional enqueue, a worker killed mid-job (the job runs again) and a worker stopped with
SIGTERM (its running job finishes, nothing is left unacknowledged)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.conftest import ROOT, Server, free_port, start_server, wait_for

REDIS_URL = "redis://127.0.0.1:6379/0"
APP = "tests.apps.jobs_app:app"


class Queue:
    """One queue of tests/apps/jobs_app.py: its name, a web server, and the runs jobs record."""

    def __init__(self, name: str, web: Server) -> None:
        self.name = name
        self.web = web
        self.redis = redis.Redis.from_url(REDIS_URL)

    def runs(self, prefix: str) -> list[tuple[str, float, int]]:
        """(entry, time, pid) of each recorded run whose entry starts with `prefix`."""
        out = []
        for raw in self.redis.lrange(f"covet:test:{self.name}:runs", 0, -1):
            entry, at, pid = raw.decode().split("@")
            if entry.startswith(prefix):
                out.append((entry, float(at), int(pid)))
        return out

    def enqueue(self, name: str, **params: object) -> str:
        response = httpx.post(f"{self.web.url}/jobs/{name}", params=params, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def result(self, job_id: str) -> dict[str, object]:
        response = httpx.get(f"{self.web.url}/jobs/{job_id}/result", timeout=60)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def pending(self) -> int:
        """Messages delivered to a worker and not acknowledged (running, or left by a dead one)."""
        info = self.redis.xpending(f"covet:jobs:{self.name}", f"covet:jobs:{self.name}:workers")
        return int(info["pending"])

    def cleanup(self) -> None:
        keys = list(self.redis.scan_iter(f"covet:*{self.name}*"))
        if keys:
            self.redis.delete(*keys)
        table = f"jobs_orders_{self.name.replace('-', '_')}"
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", f"DROP TABLE IF EXISTS {table}"]
        )


def start_worker(*args: str) -> Server:
    port = free_port()  # not served: Server only needs the process and its output
    proc = subprocess.Popen(
        [sys.executable, "-m", "covet", "worker", APP, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Server(proc, port, "worker")
    wait_for(lambda: "consuming queue" in worker.output() or proc.poll() is not None, "the worker to start", 30)
    assert proc.poll() is None, worker.output()
    return worker


@pytest.fixture(scope="module")
def queue_env() -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    saved = {k: os.environ.get(k) for k in ("COVET_JOBS_QUEUE", "COVET_JOBS_REDELIVERY")}
    os.environ["COVET_JOBS_QUEUE"] = name
    os.environ["COVET_JOBS_REDELIVERY"] = "3"
    yield name
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def queue(queue_env: str) -> Iterator[Queue]:
    web = start_server(APP)
    q = Queue(queue_env, web)
    worker = start_worker("--scheduler")
    yield q
    worker.stop()
    web.stop()
    q.cleanup()


def test_result_comes_back(queue: Queue) -> None:
    assert queue.result(queue.enqueue("add", a=2, b=3)) == {"result": 5}
    assert [entry for entry, _, _ in queue.runs("add:")] == ["add:2:3"]


def test_retries_with_backoff_until_it_succeeds(queue: Queue) -> None:
    assert queue.result(queue.enqueue("flaky", key="f1")) == {"result": "ok after 3"}
    times = [at for _, at, _ in queue.runs("flaky:f1")]
    assert len(times) == 3
    # backoff=0.5: the n-th retry waits at least 0.5 × n s (the scheduler rounds up to its second)
    assert times[1] - times[0] >= 0.5 and times[2] - times[1] >= 1.0


def test_fails_after_its_retries(queue: Queue) -> None:
    outcome = queue.result(queue.enqueue("fails", key="x1"))
    assert "ValueError" in str(outcome["error"]) and "never works" in str(outcome["error"])
    assert len(queue.runs("fails:x1")) == 2  # the first attempt and its one retry


def test_timeout_counts_as_failure(queue: Queue) -> None:
    outcome = queue.result(queue.enqueue("slow", key="s1"))
    assert "Timeout" in str(outcome["error"]) or "timeout" in str(outcome["error"]).lower()
    assert len(queue.runs("slow:s1")) == 1


def test_delayed_job_runs_after_its_delay(queue: Queue) -> None:
    sent = time.time()
    queue.enqueue("later", key="l1", delay=2)
    wait_for(lambda: queue.runs("later:l1"), "the delayed job", 20)
    ((_, ran, _),) = queue.runs("later:l1")
    assert ran >= sent + 1.9


def test_periodic_job_runs_repeatedly(queue: Queue) -> None:
    wait_for(lambda: len(queue.runs("tick:")) >= 2, "two ticks of the periodic job", 20)


def test_job_follows_the_transaction(queue: Queue) -> None:
    kept = httpx.post(f"{queue.web.url}/orders", params={"item": "tea"}, timeout=10)
    assert kept.status_code == 200
    refused = httpx.post(f"{queue.web.url}/orders", params={"item": "mud", "fail": "true"}, timeout=10)
    assert refused.status_code == 400
    order_id = kept.json()["id"]
    wait_for(lambda: queue.runs(f"ship:{order_id}"), "the committed order's job", 20)
    # The outbox is relayed in order, so the refused order's job would have run by now.
    assert [entry for entry, _, _ in queue.runs("ship:")] == [f"ship:{order_id}"]
    wait_for(lambda: queue.pending() == 0, "every job acknowledged")


@pytest.fixture
def quiet_queue(queue_env: str) -> Iterator[Queue]:
    """A queue of its own with no worker: each test starts and stops the workers it needs."""
    saved = os.environ["COVET_JOBS_QUEUE"]
    name = f"k-{uuid.uuid4().hex[:8]}"
    os.environ["COVET_JOBS_QUEUE"] = name
    web = start_server(APP)
    q = Queue(name, web)
    try:
        yield q
    finally:
        os.environ["COVET_JOBS_QUEUE"] = saved
        web.stop()
        q.cleanup()


def test_job_of_a_killed_worker_runs_again(quiet_queue: Queue) -> None:
    first = start_worker()
    quiet_queue.enqueue("long", key="k1", seconds=2)
    wait_for(lambda: quiet_queue.runs("long-start:k1"), "the job to start")
    first.stop(signal.SIGKILL)
    assert quiet_queue.pending() == 1
    second = start_worker()
    try:
        wait_for(lambda: quiet_queue.runs("long-end:k1"), "the job to run again on the second worker", 30)
    finally:
        second.stop()
    starts = quiet_queue.runs("long-start:k1")
    ends = quiet_queue.runs("long-end:k1")
    assert len(starts) == 2 and len(ends) == 1
    assert ends[0][2] == second.proc.pid != first.proc.pid
    assert quiet_queue.pending() == 0


def test_sigterm_lets_the_running_job_finish(quiet_queue: Queue) -> None:
    worker = start_worker()
    quiet_queue.enqueue("long", key="g1", seconds=1.5)
    wait_for(lambda: quiet_queue.runs("long-start:g1"), "the job to start")
    code, output = worker.stop(signal.SIGTERM)
    assert code == 0, output
    ends = quiet_queue.runs("long-end:g1")
    assert len(ends) == 1 and ends[0][2] == worker.proc.pid
    assert quiet_queue.pending() == 0  # acknowledged: no other worker will run it again


def test_worker_refuses_an_app_without_jobs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "covet", "worker", "tests.apps.basic:app"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "declares no jobs queue" in out.stderr


def test_a_retry_filed_just_before_the_minute_turns_is_still_sent() -> None:
    """A timed schedule (a retry, a delayed job) filed under the previous minute after the
    scheduler's last read of that minute is read again: taskiq-redis alone reads only the
    current minute's list after its first read, and such a job never ran (the full suite once
    waited forever for a retried job's result)."""
    import asyncio
    import datetime

    from taskiq import ScheduledTask

    from covet.jobs.schedules import Schedules

    async def scenario() -> list[str]:
        source = Schedules(REDIS_URL, prefix=f"covet:test:schedules:{uuid.uuid4().hex[:8]}")
        await source.startup()
        await source.get_schedules()  # the first read, which also sweeps the past
        due = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        task = ScheduledTask(task_name="retry", labels={}, args=[], kwargs={}, time=due, schedule_id="late-1")
        await source.add_schedule(task)
        found = [s.schedule_id for s in await source.get_schedules()]
        await source.delete_schedule("late-1")
        await source.shutdown()
        return found

    assert asyncio.run(scenario()) == ["late-1"]
