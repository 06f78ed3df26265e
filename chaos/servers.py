"""covet server processes for the scenarios: started with `python -m covet run`, output to a
log file (a pipe nobody reads would fill under load and stall the server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT, free_port, wait_for_port


@dataclass
class CovetProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    log: str = ""  # the process's output, read when it stops

    def log_lines(self, containing: str) -> int:
        return sum(containing in line for line in self.log.splitlines())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int | None:
        """Sends `sig` and waits; kills the whole process group past `timeout` (returns None
        then). Keeps the output in `log` and deletes the file."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            code = None
        if self.log_path.exists():
            self.log = self.log_path.read_text(errors="replace")
            self.log_path.unlink()
        return code


def start_covet(app: str, *args: str, env: dict[str, str] | None = None) -> CovetProcess:
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="covet-chaos-", suffix=".log")[1])
    cmd = [
        sys.executable,
        "-m",
        "covet",
        "run",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        *args,
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    wait_for_port(port, proc)
    return CovetProcess(proc, port, log_path)
