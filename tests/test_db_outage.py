"""PostgreSQL goes away and comes back while covet keeps running: requests get 503 with
Retry-After (no driver text) while it is down, and succeed again once it is back, with no
restart of covet. A private cluster (initdb on a free port) is used, never the shared one."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

PG_BIN = Path(os.environ.get("COVET_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*cmd: str) -> list[str]:
    if os.geteuid() == 0:  # initdb refuses to run as root
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


class PrivateCluster:
    def __init__(self, folder: Path, port: int) -> None:
        self.data = folder / "data"
        self.folder = folder
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (set COVET_PG_BIN): no private cluster")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb cannot run")
    folder = Path(tempfile.mkdtemp(prefix="covet-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = PrivateCluster(folder, free_port())
    try:
        subprocess.run(
            _as_postgres(str(PG_BIN / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres"),
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_503_while_postgres_is_down_then_recovery(
    cluster: PrivateCluster, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", cluster.url)
    server = serve("tests.apps.db_app:app")
    with server.client() as client:
        assert client.post("/accounts", json={"email": "before@example.com", "name": "A"}).status_code == 201

        cluster.stop()
        for path in ("/accounts/count", "/accounts/1"):
            down = client.get(path)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            assert down.json() == {"detail": "The database is unavailable, try again later"}
        assert client.get("/health").json()["ok"] is False
        assert server.proc.poll() is None

        cluster.start()
        deadline = time.monotonic() + 30
        statuses = []
        while time.monotonic() < deadline:
            response = client.post("/accounts", json={"email": "after@example.com", "name": "B"})
            statuses.append(response.status_code)
            if response.status_code == 201:
                break
            time.sleep(0.5)
        assert statuses[-1] == 201, statuses
        assert set(statuses) <= {201, 503}
        assert client.get("/accounts/count").json() == {"count": 2}
    _, log = server.stop()
    assert "unavailable (503)" in log
