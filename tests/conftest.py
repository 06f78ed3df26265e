"""Shared fixtures: real servers on 127.0.0.1 with ephemeral ports, started as subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import OwnGcsEmulator, OwnMemcached, OwnMotoS3, OwnRedis, PrivateCluster

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} in {timeout} s")


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Polls `predicate` until it is true: the one way tests wait for an event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def until(predicate: Callable[[], Awaitable[object]], what: str, timeout: float = 10.0) -> None:
    """`wait_for` inside a test's event loop: awaits `predicate` until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Server:
    """A running server process and where to reach it. Its output is read as it comes (a
    server logging a line per request under load would otherwise fill the pipe and block)."""

    proc: subprocess.Popen[bytes]
    port: int
    kind: str
    _lines: list[bytes] = field(default_factory=list, repr=False)
    _reader: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        stream = self.proc.stdout
        if stream is not None:
            self._reader = threading.Thread(target=lambda: self._lines.extend(stream), daemon=True)
            self._reader.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)  # type: ignore[arg-type]

    def output(self) -> str:
        """What the server has written so far."""
        return b"".join(list(self._lines)).decode(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        return self.proc.returncode, self.output()


def start_server(app: str, *args: str, kind: str = "covet") -> Server:
    port = free_port()
    if kind == "covet":
        cmd = [sys.executable, "-m", "covet", "run", app, "--port", str(port), "--log-level", "info", *args]
    else:
        cmd = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, proc)
    return Server(proc, port, kind)


@pytest.fixture
def serve() -> Iterator[object]:
    """Starts servers on demand (`serve("tests.apps.basic:app", "--workers", "2")`); stops them after."""
    started: list[Server] = []

    def start(app: str, *args: str, kind: str = "covet") -> Server:
        server = start_server(app, *args, kind=kind)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.stop(signal.SIGKILL, timeout=5)


@pytest.fixture(scope="module", params=["covet", "uvicorn"])
def live(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The basic app served by covet's engine and by uvicorn: both must behave the same."""
    server = start_server("tests.apps.basic:app", kind=request.param)
    yield server
    server.stop(timeout=10)


def served_three_ways(
    app_spec: str, *, raise_server_exceptions: bool = True, testclient_peer: tuple[str, int] = ("testclient", 50000)
) -> Any:
    """A module-scoped `client` fixture serving `app_spec` through TestClient, covet's own
    server and uvicorn in turn, so a test module checks that all three behave the same.
    `testclient_peer` is the client address TestClient reports (the servers see 127.0.0.1)."""

    @pytest.fixture(scope="module", params=["testclient", "covet", "uvicorn"])
    def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
        if request.param == "testclient":
            from covet.cli import load_app
            from covet.testclient import TestClient

            app = load_app(app_spec)
            with TestClient(app, raise_server_exceptions=raise_server_exceptions, client=testclient_peer) as tc:
                yield tc
            return
        args = ["--no-access-log"] if request.param == "covet" else []
        server = start_server(app_spec, *args, kind=request.param)
        try:
            with server.client() as c:
                yield c
        finally:
            server.stop()

    return client


# --- databases (covet.db) -------------------------------------------------------------------------

PG_SERVER_URL = os.environ.get("COVET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file, then a PostgreSQL database of its
    own (covet_test_db_<random>, dropped afterwards) on the shared server."""
    from covet.db.testing import temporary_database

    server = "sqlite://" if request.param == "sqlite" else PG_SERVER_URL
    with temporary_database(server, prefix="covet_test_db_") as url:
        yield url


@contextlib.contextmanager
def chat_servers(monkeypatch: pytest.MonkeyPatch, tag: str) -> Iterator[tuple[Server, Server]]:
    """Two processes of examples/chat sharing the machine's Redis under a prefix of their own,
    which is deleted afterwards."""
    import redis

    prefix = f"covet-test:{tag}:{uuid.uuid4().hex}:"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CHAT_PREFIX", prefix)
    a = start_server("examples.chat.app:app", "--no-access-log")
    b = start_server("examples.chat.app:app", "--no-access-log")
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        r = redis.Redis()
        keys = list(r.scan_iter(match=f"{prefix}*"))
        if keys:
            r.delete(*keys)
        r.close()


# --- backend processes of a test's own (fault tests) ----------------------------------------------


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A redis-server of this test's own on a free port, to kill, freeze and restart."""
    if not OwnRedis.available():
        pytest.skip("redis-server is not installed (scripts/services.sh installs it)")
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def own_memcached() -> Iterator[OwnMemcached]:
    """A memcached of this test's own on a free port, to kill and restart."""
    if not OwnMemcached.available():
        pytest.skip("memcached is not installed (scripts/services.sh installs it)")
    server = OwnMemcached()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of this test's own on a free port, to stop, freeze and restart."""
    reason = PrivateCluster.unavailable_reason()
    if reason:
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


# --- object storage (covet.storage): S3-API and GCS-API servers on loopback -----------------------


@pytest.fixture(scope="session")
def storage_servers() -> Iterator[dict[str, str]]:
    """moto_server (S3) and gcp-storage-emulator (GCS) of the session's own, each with the bucket
    `covet-test`; their URLs are put in the environment for the apps the tests start."""
    import asyncio

    from covet.storage import GCSStorage, S3Storage

    s3, gcs = OwnMotoS3(), OwnGcsEmulator()
    if not (s3.available() and gcs.available()):
        pytest.skip("moto[server] and gcp-storage-emulator are not installed (requirements-dev.txt)")
    s3.start()
    gcs.start()
    urls = {"STORAGE_S3_URL": s3.url, "STORAGE_GCS_URL": gcs.url, "STORAGE_BUCKET": "covet-test"}

    async def buckets() -> None:
        for storage in (S3Storage("covet-test", endpoint_url=s3.url), GCSStorage("covet-test", endpoint_url=gcs.url)):
            await storage.create_bucket()  # type: ignore[attr-defined]
            await storage.aclose()

    asyncio.run(buckets())
    saved = {k: os.environ.get(k) for k in urls}
    os.environ.update(urls)
    try:
        yield urls
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        s3.kill()
        gcs.kill()
