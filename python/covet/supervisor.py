"""`--workers N`: N worker processes on one port (SO_REUSEPORT), a dead worker replaced,
SIGHUP for a rolling restart, and SIGTERM passed on so every worker drains before the
supervisor exits."""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
import time

logger = logging.getLogger("covet.supervisor")

__all__ = ["supervise", "READY_FD_ENV"]

# The worker writes one byte to this inherited descriptor once it listens (see server.py).
READY_FD_ENV = "COVET_READY_FD"
READY_TIMEOUT = 60.0


def supervise(worker_args: list[str], workers: int, graceful_timeout: float) -> int:
    """Runs `python -m covet run <worker_args> --worker` N times and keeps N alive."""
    stopping = False
    reload = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def on_hup(signum: int, frame: object) -> None:
        nonlocal reload
        reload = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hup)
    command = [sys.executable, "-m", "covet", "run", *worker_args, "--worker"]
    procs: dict[int, subprocess.Popen[bytes]] = {}
    ready_fds: dict[int, int] = {}
    retiring: list[subprocess.Popen[bytes]] = []

    def start_one(*, watch_ready: bool = False) -> subprocess.Popen[bytes]:
        """`watch_ready`: keep the read end of the worker's readiness pipe, for `wait_ready`."""
        ready_r, ready_w = os.pipe()
        env = {**os.environ, READY_FD_ENV: str(ready_w)}
        proc = subprocess.Popen(command, pass_fds=(ready_w,), env=env)
        os.close(ready_w)
        if watch_ready:
            ready_fds[proc.pid] = ready_r
        else:
            os.close(ready_r)
        procs[proc.pid] = proc
        logger.info("Started worker %d", proc.pid)
        return proc

    def wait_ready(proc: subprocess.Popen[bytes]) -> bool:
        fd = ready_fds.pop(proc.pid)
        try:
            readable, _, _ = select.select([fd], [], [], READY_TIMEOUT)
            return bool(readable) and os.read(fd, 1) == b"1"
        finally:
            os.close(fd)

    def rolling_restart() -> None:
        """Each old worker is stopped only once its replacement listens, so the port always
        has a worker taking connections; the old one drains its own queue before it closes."""
        for pid in list(procs):
            new = start_one(watch_ready=True)
            if not wait_ready(new):
                logger.error("Worker %d did not start listening; keeping worker %d", new.pid, pid)
                return
            old = procs.pop(pid)
            old.send_signal(signal.SIGTERM)
            retiring.append(old)
        logger.info("Rolling restart done")

    for _ in range(workers):
        start_one()
    failures: list[float] = []
    while not stopping:
        time.sleep(0.1)
        retiring[:] = [p for p in retiring if p.poll() is None]
        if reload and not stopping:
            reload = False
            logger.info("SIGHUP: restarting the workers one by one")
            rolling_restart()
        for pid, proc in list(procs.items()):
            code = proc.poll()
            if code is None or stopping:
                continue
            del procs[pid]
            logger.warning("Worker %d exited with code %s; starting a new one", pid, code)
            now = time.monotonic()
            failures = [t for t in failures if now - t < 10] + [now]
            if len(failures) > 5 * workers:
                logger.error("Workers keep dying; giving up")
                stopping = True
                break
            start_one()

    everyone = [*procs.values(), *retiring]
    for proc in everyone:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + graceful_timeout + 5
    code = 0
    for proc in everyone:
        try:
            result = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("Worker %d did not stop in time; killing it", proc.pid)
            proc.kill()
            result = proc.wait()
        if result not in (0, -signal.SIGTERM) and proc.pid in procs:
            code = 1
    logger.info("Supervisor %d stopped", os.getpid())
    return code
