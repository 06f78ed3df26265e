"""A 200 MB upload through a covet endpoint into S3 (moto_server) and GCS (gcp-storage-emulator),
sent by the client in chunks: the worker's RSS (read from /proc) grows by less than 20 MB,
because the multipart body is spooled to disk and the storage upload is streamed from there. On
covet's server and under uvicorn."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server

SIZE = 200 * 1024 * 1024
PIECE = 1024 * 1024
LIMIT = 20 * 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def multipart(boundary: str) -> tuple[Iterator[bytes], int]:
    """A multipart body with one 200 MB file part, generated piece by piece (never whole)."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    piece = bytes(range(256)) * (PIECE // 256)

    def parts() -> Iterator[bytes]:
        yield head
        for _ in range(SIZE // PIECE):
            yield piece
        yield tail

    return parts(), len(head) + SIZE + len(tail)


class PeakRss:
    """Samples a process's RSS until stopped; `peak` is the largest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, rss(pid), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def upload(client: httpx.Client, key: str) -> tuple[int, int]:
    """Uploads 200 MB under `key`, streamed by the client; (peak RSS growth, worker pid)."""
    pid = client.get("/pid").json()["pid"]
    warm = client.post(f"/upload/{key}", files={"file": ("w.bin", b"x" * PIECE, "application/octet-stream")})
    assert warm.status_code == 200, warm.text
    boundary = uuid.uuid4().hex
    body, length = multipart(boundary)
    headers = {"content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(length)}
    before = rss(pid)
    with PeakRss(pid) as sampler:
        answer = client.post(f"/upload/{key}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["size"] == SIZE
    return sampler.peak - before, pid


@pytest.fixture(params=["covet", "uvicorn"])
def server(request: pytest.FixtureRequest, storage_servers: dict[str, str], serve: object) -> Iterator[Server]:
    """The storage test app of the test's backend (`backend` parameter) on covet's server or uvicorn."""
    kind = request.param
    backend = request.node.callspec.params["backend"]
    args = ["--no-access-log", "--max-body-size", str(SIZE * 2)] if kind == "covet" else []
    yield serve(f"tests.apps.storage_app:{backend}_app", *args, kind=kind)  # type: ignore[operator]


@pytest.mark.parametrize("backend", ["s3", "gcs"])
def test_200mb_upload_keeps_worker_rss_flat(backend: str, server: Server) -> None:
    key = f"big/{uuid.uuid4().hex}.bin"
    with httpx.Client(base_url=server.url, timeout=300) as client:
        growth, _ = upload(client, key)
        print(f"\n{backend} {server.kind} upload: RSS growth {growth / 2**20:.1f} MiB")
        assert growth < LIMIT, f"RSS grew by {growth / 2**20:.1f} MiB"
        tail = client.get(f"/files/{key}", headers={"range": f"bytes={SIZE - 256}-"})
        assert (tail.status_code, tail.content) == (206, bytes(range(256)))
        assert client.delete(f"/files/{key}").json() == {"deleted": True}
