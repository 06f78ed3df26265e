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

__all__ = ["supervise", "Supervisor", "READY_FD_ENV"]

# The worker writes one byte to this inherited descriptor once it listens (see server.py).
READY_FD_ENV = "COVET_READY_FD"
READY_TIMEOUT = 60.0


def supervise(worker_args: list[str], workers: int, graceful_timeout: float) -> int:
    """Runs `python -m covet run <worker_args> --worker` N times and keeps N alive."""
    from covet.metrics.shared import workers_share_metrics

    with workers_share_metrics():
        command = [sys.executable, "-m", "covet", "run", *worker_args, "--worker"]
        return Supervisor(command, workers).run(graceful_timeout)


class Supervisor:
    """Keeps `workers` copies of `command` running; `reload = True` (SIGHUP, or the reloader
    of `covet dev`) asks for a rolling restart."""

    def __init__(self, command: list[str], workers: int) -> None:
        self.command = command
        self.workers = workers
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        # Old workers of a rolling restart, draining: waited for at exit, never replaced.
        self.retiring: list[subprocess.Popen[bytes]] = []
        self.stopping = False
        self.reload = False

    def run(self, graceful_timeout: float) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        for _ in range(self.workers):
            self._start()
        failures: list[float] = []
        while not self.stopping:
            time.sleep(0.1)
            self.retiring = [p for p in self.retiring if p.poll() is None]
            if self.reload:
                self.reload = False
                logger.info("SIGHUP: restarting the workers one by one")
                self._rolling_restart()
            for pid, proc in list(self.procs.items()):
                code = proc.poll()
                if code is None or self.stopping:
                    continue
                del self.procs[pid]
                logger.warning("Worker %d exited with code %s; starting a new one", pid, code)
                now = time.monotonic()
                failures = [t for t in failures if now - t < 10] + [now]
                if len(failures) > 5 * self.workers:
                    logger.error("Workers keep dying; giving up")
                    self.stopping = True
                    break
                self._start()
        return self._stop_all(graceful_timeout)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _on_hup(self, signum: int, frame: object) -> None:
        self.reload = True

    def _start(self, *, wait_ready: bool = False) -> subprocess.Popen[bytes] | None:
        """Starts a worker; with `wait_ready`, returns it only once it listens (else None)."""
        ready_r, ready_w = os.pipe()
        try:
            proc = subprocess.Popen(self.command, pass_fds=(ready_w,), env={**os.environ, READY_FD_ENV: str(ready_w)})
        finally:
            os.close(ready_w)
        self.procs[proc.pid] = proc
        logger.info("Started worker %d", proc.pid)
        try:
            if not wait_ready:
                return proc
            readable, _, _ = select.select([ready_r], [], [], READY_TIMEOUT)
            # A worker that dies first closes its end: an empty read.
            return proc if readable and os.read(ready_r, 1) == b"1" else None
        finally:
            os.close(ready_r)

    def _rolling_restart(self) -> None:
        """Each old worker is stopped only once its replacement listens, so the port always
        has workers taking connections; the old one drains its own accept queue (server.py)
        before it closes its socket."""
        for pid in list(self.procs):
            if self._start(wait_ready=True) is None:
                logger.error("A new worker did not start listening; keeping worker %d", pid)
                return
            old = self.procs.pop(pid)
            old.send_signal(signal.SIGTERM)
            self.retiring.append(old)
        logger.info("Rolling restart done")

    def _stop_all(self, graceful_timeout: float) -> int:
        """Passes SIGTERM on, waits for every worker to drain, kills those that overstay."""
        everyone = [*self.procs.values(), *self.retiring]
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
            if result not in (0, -signal.SIGTERM):
                code = 1
        logger.info("Supervisor %d stopped", os.getpid())
        return code
