"""pytest fixtures for covet apps, loaded by pytest from covet's `pytest11` entry point: define
a `covet_app` fixture in your conftest.py and ask for these.

- `covet_client`: a `TestClient` on the app, started (startup, lifespan) and stopped;
- `covet_db_client`: the same, with every database write of the test rolled back at its end;
- `covet_server`: the app served by `covet run` on a free loopback port (a real socket);
- `covet_ws`: connects a WebSocket client to `covet_server`;
- `covet_redis`: a key prefix of the test's own on the machine's Redis, its keys deleted after;
- `override_dependency(app, dependency, replacement)`: a context manager (also importable).

See docs/testing.md."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["LiveServer", "RedisNamespace", "override_dependency"]


@contextlib.contextmanager
def override_dependency(app: Any, dependency: Callable[..., Any], replacement: Callable[..., Any]) -> Iterator[None]:
    """`app.dependency_overrides[dependency] = replacement` inside the block; what was there
    before (another override, or nothing) comes back after it."""
    missing = object()
    previous = app.dependency_overrides.get(dependency, missing)
    app.dependency_overrides[dependency] = replacement
    try:
        yield
    finally:
        if previous is missing:
            app.dependency_overrides.pop(dependency, None)
        else:
            app.dependency_overrides[dependency] = previous


@dataclass
class LiveServer:
    """`covet run` serving the app in a process of its own."""

    process: subprocess.Popen[bytes]
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def client(self, **options: Any) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, timeout=10, **options)

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class RedisNamespace:
    """A key prefix no other test uses; `key("x")` is `<prefix>x`."""

    url: str
    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)


def app_spec(app: Any) -> str:
    """`module:attribute` of a module-level app object, for a server process to import."""
    for name, module in list(sys.modules.items()):
        if name == "__main__" or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if value is app:
                return f"{name}:{attribute}"
    raise LookupError("covet_server needs an app defined at module level (or a `covet_app_spec` fixture)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def covet_app() -> Any:
    raise pytest.UsageError("covet's fixtures need a `covet_app` fixture returning your app (put it in conftest.py)")


@pytest.fixture
def covet_client(covet_app: Any) -> Iterator[Any]:
    from covet.testclient import TestClient

    with TestClient(covet_app) as client:
        yield client


@pytest.fixture
def covet_db_client(covet_client: Any, covet_app: Any) -> Iterator[Any]:
    from covet.db.testing import rollback_after

    db = getattr(covet_app, "extensions", {}).get("db")
    if db is None:
        raise pytest.UsageError("covet_db_client needs an app with a covet.db Database (db.init_app(app))")
    with rollback_after(covet_client, db):
        yield covet_client


@pytest.fixture
def covet_app_spec(covet_app: Any) -> str:
    return app_spec(covet_app)


@pytest.fixture
def covet_server(covet_app_spec: str) -> Iterator[LiveServer]:
    port = _free_port()
    command = [sys.executable, "-m", "covet", "run", covet_app_spec, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=os.getcwd())
    server = LiveServer(process, port)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"covet run {covet_app_spec} exited with {process.returncode}:\n{output}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"covet run {covet_app_spec} did not listen on {port} within 30 s")
        time.sleep(0.05)
    yield server
    server.stop()


@pytest.fixture
def covet_ws(covet_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """`covet_ws("/ws/room")` opens a WebSocket (the `websockets` package's sync client) to the
    live server; the connections are closed after the test."""
    from websockets.sync.client import connect

    with contextlib.ExitStack() as stack:

        def open_ws(path: str, **options: Any) -> Any:
            options.setdefault("open_timeout", 10)
            return stack.enter_context(connect(covet_server.ws_url + path, **options))

        yield open_ws


@pytest.fixture
def covet_redis() -> Iterator[RedisNamespace]:
    namespace = RedisNamespace(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"covet-test:{uuid.uuid4().hex[:12]}:"
    )
    yield namespace
    client = namespace.client()
    try:
        keys = list(client.scan_iter(f"{namespace.prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
