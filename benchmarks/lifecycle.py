"""One server under test, as a process: start it pinned to SERVER_CPU, wait until it answers,
send it a request, and stop its whole process group."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from benchmarks.harness import HOST, SERVER_CPU, STARTUP_TIMEOUT_S, STOP_GRACE_S, BenchError, log
from benchmarks.scenarios import Scenario
from benchmarks.servers import Server


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on HOST:port."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def fetch(port: int, scenario: Scenario, timeout: float = 2) -> tuple[int, str, bytes]:
    """Send the scenario's request once: status, content type and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(
            scenario.method, scenario.path, body=scenario.body_bytes(),
            headers=scenario.request_headers(),
        )  # fmt: skip
        response = conn.getresponse()
        body = response.read()
        return response.status, response.getheader("content-type", ""), body
    finally:
        conn.close()


def probe(port: int, scenario: Scenario) -> int:
    """Send the scenario's request once and return the status code."""
    return fetch(port, scenario)[0]


class RunningServer:
    """A server pinned to SERVER_CPU, in its own session so its whole group can die."""

    def __init__(self, server: Server, log_path: Path, env: dict[str, str] | None = None) -> None:
        """Start the server (with `env` added); its output goes to `log_path`."""
        self.server = server
        self.log_path = log_path
        self._log = log_path.open("wb")
        cmd = ["taskset", "-c", SERVER_CPU, *server.command(server.port)]
        log(f"start {server.name}: {' '.join(cmd)}")
        self.proc = subprocess.Popen(
            cmd,
            cwd=server.cwd,
            env={**os.environ, **server.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """PID of the server (taskset execs the command, so it is the server itself)."""
        return self.proc.pid

    def output(self, limit: int = 4000) -> str:
        """The tail of what the server printed, for failure messages."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").strip()
        return text[-limit:] if text else "(no output)"

    def check_alive(self) -> None:
        """Raise with the server's output if it has exited."""
        code = self.proc.poll()
        if code is not None:
            raise BenchError(f"server exited with code {code}; its output:\n{self.output()}")

    def wait_ready(self, scenario: Scenario) -> None:
        """Wait until the port accepts and `scenario` answers its expected status."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last = "port never accepted a connection"
        while time.monotonic() < deadline:
            self.check_alive()
            if port_open(self.server.port):
                try:
                    status = probe(self.server.port, scenario)
                except (OSError, http.client.HTTPException) as exc:
                    last = f"{scenario.method} {scenario.path} failed: {exc!r}"
                else:
                    if status == scenario.expect_status:
                        return
                    last = f"{scenario.method} {scenario.path} answered {status}"
            time.sleep(0.1)
        raise BenchError(f"not ready after {STARTUP_TIMEOUT_S:.0f} s ({last}); its output:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after STOP_GRACE_S: leave no server behind."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_GRACE_S)
        # Kill the group even if the leader exited: its workers may still hold the port.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log(f"warning: {self.server.name} (pid {self.proc.pid}) did not die")
        self._log.close()
