"""`--workers N`: N worker processes on one port (SO_REUSEPORT), a dead worker replaced, and
SIGTERM passed on so every worker drains before the supervisor exits."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

logger = logging.getLogger("covet.supervisor")

__all__ = ["supervise"]


def supervise(worker_args: list[str], workers: int, graceful_timeout: float) -> int:
    """Runs `python -m covet run <worker_args> --worker` N times and keeps N alive."""
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    command = [sys.executable, "-m", "covet", "run", *worker_args, "--worker"]
    procs: dict[int, subprocess.Popen[bytes]] = {}

    def start_one() -> None:
        proc = subprocess.Popen(command)
        procs[proc.pid] = proc
        logger.info("Started worker %d", proc.pid)

    for _ in range(workers):
        start_one()
    failures: list[float] = []
    while not stopping:
        time.sleep(0.1)
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

    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + graceful_timeout + 5
    code = 0
    for proc in procs.values():
        try:
            result = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("Worker %d did not stop in time; killing it", proc.pid)
            proc.kill()
            result = proc.wait()
        if result not in (0, -signal.SIGTERM):
            code = 1
    logger.info("Supervisor %d stopped", os.getpid())
    return code
