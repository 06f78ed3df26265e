"""Backend server processes of a test's own: a redis-server and a PostgreSQL cluster on free
ports, which a fault test (or `make chaos`) may stop, kill, freeze (SIGSTOP) and restart. The
machine's shared Redis (6379) and PostgreSQL (5432) are never touched this way."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("COVET_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} in {timeout} s")


class _OwnServer:
    """A server process of the caller's own on a free port (the same port across restarts):
    `binary` names the program, `command()` its arguments."""

    binary = ""

    def __init__(self) -> None:
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def available(cls) -> bool:
        return shutil.which(cls.binary) is not None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_listening(self.port, self.binary)

    def kill(self) -> None:
        """Gone at once (SIGKILL): clients see resets, then refused connections."""
        if self.proc is not None:
            self.thaw()
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def freeze(self) -> None:
        """Still accepting TCP connections (the kernel does), never answering: a hung server."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)


class OwnRedis(_OwnServer):
    """A redis-server of the caller's own."""

    binary = "redis-server"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


def _as_postgres(*cmd: str) -> list[str]:
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


class PrivateCluster:
    """A PostgreSQL cluster of the caller's own (initdb in a temp folder, trust auth, a free
    port), so it can be stopped in any mode, frozen and started again."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="covet-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def unavailable_reason() -> str | None:
        """Why no private cluster can run here, or None when one can."""
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            return f"PostgreSQL server binaries not found in {PG_BIN} (set COVET_PG_BIN)"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root without runuser: initdb cannot run"
        return None

    def _run(self, *cmd: str) -> None:
        subprocess.run(_as_postgres(*cmd), check=True, capture_output=True, timeout=120)

    def _ctl(self, *args: str) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`smart`, `fast` (sessions cut, clean shutdown) or `immediate` (as a crash)."""
        self._ctl("-m", mode, "-w", "stop")

    def _postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang instead of failing."""
        subprocess.run(["pkill", "-STOP", "-P", str(self._postmaster_pid())], check=False)
        os.kill(self._postmaster_pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self._postmaster_pid(), signal.SIGCONT)
        subprocess.run(["pkill", "-CONT", "-P", str(self._postmaster_pid())], check=False)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.thaw()
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


class OwnMemcached(_OwnServer):
    """A memcached of the caller's own."""

    binary = "memcached"

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "16"]
        return cmd + ["-u", "root"] if os.geteuid() == 0 else cmd


class _VenvServer(_OwnServer):
    """A server installed as a console script beside the running Python (the venv's bin/)."""

    @classmethod
    def available(cls) -> bool:
        return (Path(sys.executable).parent / cls.binary).exists()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def program(self) -> str:
        return str(Path(sys.executable).parent / self.binary)


class OwnMotoS3(_VenvServer):
    """moto's standalone server: the S3 REST API on loopback (requirements-dev.txt: moto[server])."""

    binary = "moto_server"

    def command(self) -> list[str]:
        return [self.program, "-H", "127.0.0.1", "-p", str(self.port)]


class OwnGcsEmulator(_VenvServer):
    """gcp-storage-emulator: the GCS JSON API on loopback, objects in memory."""

    binary = "gcp-storage-emulator"

    def command(self) -> list[str]:
        return [self.program, "start", "--host", "127.0.0.1", "--port", str(self.port), "--in-memory", "-q"]
