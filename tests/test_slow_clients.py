"""Slow-drip bodies and the per-worker connection cap: 400 clients that each trickle a body a
byte at a time must neither exhaust the worker nor keep a health check from being answered."""

from __future__ import annotations

import resource
import select
import socket
import threading
import time

import httpx

from covet.server import default_max_connections
from tests.conftest import wait_for

APP = "tests.apps.lifecycle:app"
DRIP_HEAD = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\na"


def _status(answer: bytes) -> int | None:
    return int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") and len(answer) >= 12 else None


def test_slow_drip_is_cut_and_health_answers(serve) -> None:
    # The body timeout is longer than /health may wait: at the cap, a request arriving
    # slower than the minimum rate gives way to a newcomer before its timeout.
    server = serve(APP, "--max-connections", "200", "--body-timeout", "5")
    attackers: list[socket.socket] = []
    answers: dict[int, bytes] = {}
    stop = threading.Event()

    def drip() -> None:
        """One more byte on every open attacker every 0.3 s: never silent for a second, but
        far below any useful rate (the attack's behaviour, not a wait)."""
        while not stop.wait(0.3):
            for i, s in enumerate(attackers):
                if i not in answers:
                    try:
                        s.send(b"a")
                    except OSError:
                        pass

    for _ in range(400):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(DRIP_HEAD)
        s.setblocking(False)
        attackers.append(s)
    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    started = time.monotonic()
    health: list[object] = []

    def health_ok() -> bool:
        try:
            status = httpx.get(f"{server.url}/health", timeout=3).status_code
        except httpx.HTTPError as exc:
            status = exc
        health.append(status)
        return status == 200

    def collect() -> bool:
        for i, s in enumerate(attackers):
            if i in answers:
                continue
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                data = repr(exc).encode()
            answers[i] = data
        return len(answers) == len(attackers)

    try:
        wait_for(health_ok, "/health to answer 200 during the attack", timeout=6)
        health_after = time.monotonic() - started
        wait_for(collect, "every slow-drip connection to be answered", timeout=10)
    finally:
        stop.set()
        dripper.join()
        for s in attackers:
            s.close()
    # Every /health attempt got an HTTP answer (503 while the worker was full), never a reset.
    assert all(status in (200, 503) for status in health), health
    assert health_after < 3, f"/health took {health_after:.1f} s"
    statuses = [_status(a) for a in answers.values()]
    assert set(statuses) <= {408, 503}, {a[:40] for a in answers.values() if _status(a) not in (408, 503)}
    assert statuses.count(408) >= 200 - 5  # the cap's worth were let in, then cut
    cut = next(a for a in answers.values() if _status(a) == 408)
    assert b"connection: close" in cut.lower() and cut.endswith(b'{"detail":"Request body too slow"}')
    code, log = server.stop()
    assert "408 Request body too slow" in log
    assert "503 Server at its connection limit" in log


def _upload(port: int, pieces: int, size: int, every: float) -> bytes:
    """Sends a body of `pieces` pieces of `size` bytes, one every `every` s (the client's
    pace), stopping early once the server answers; returns the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {pieces * size}\r\n\r\n".encode())
        for _ in range(pieces):
            if select.select([s], [], [], 0)[0]:
                break
            s.sendall(b"x" * size)
            time.sleep(every)
        return s.recv(4096)


def test_body_pace_cuts_a_drip_after_the_timeout_but_not_a_steady_upload(serve) -> None:
    server = serve(APP, "--body-timeout", "1", "--min-body-rate", "1000")
    started = time.monotonic()
    drip = _upload(server.port, pieces=30, size=100, every=0.6)  # 167 bytes/s, under the minimum
    took = time.monotonic() - started
    assert drip.startswith(b"HTTP/1.1 408") and drip.endswith(b'{"detail":"Request body too slow"}')
    assert 1 < took < 4, took
    steady = _upload(server.port, pieces=20, size=300, every=0.1)  # 3000 bytes/s for 2 s
    assert steady.startswith(b"HTTP/1.1 200") and steady.endswith(b'{"size":6000}')


def test_at_the_cap_the_oldest_idle_connection_makes_room(serve) -> None:
    server = serve(APP, "--max-connections", "3", "--no-access-log")
    idle = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        idle.append(s)
    with httpx.Client(base_url=server.url, timeout=5) as client:
        assert client.get("/health").status_code == 200
    # The first (oldest idle) keep-alive connection was closed to let the newcomer in.
    assert idle[0].recv(4096) == b""
    idle[1].sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle[1].recv(4096).startswith(b"HTTP/1.1 200")
    for s in idle:
        s.close()


def test_default_cap_leaves_room_under_the_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (500, hard))
    try:
        assert default_max_connections() == 400
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert default_max_connections() == min(soft - 100, 10_000)
