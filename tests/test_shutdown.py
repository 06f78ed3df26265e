"""A graceful stop under load loses no request: keep-alive and `Connection: close` clients in
threads, slow handlers in flight, SIGTERM in the middle. Every request a client sent gets a
response; a client that connects after the listening socket closed hears "connection refused"
(counted apart: that is not a lost request, the next server or worker takes it)."""

from __future__ import annotations

import http.client
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest

from tests.conftest import wait_for

APP = "tests.apps.lifecycle:app"


@dataclass
class Tally:
    """What the clients saw; `lost` holds one line per request that got no response."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: int = 0
    refused: int = 0
    slow_done_after_stop: int = 0
    lost: list[str] = field(default_factory=list)
    stopped_at: float | None = None


def _client(port: int, mode: str, tally: Tally, done: threading.Event) -> None:
    """Sends requests back to back until the server refuses a new connection (or `done`)."""
    path = "/slow?ms=400" if mode == "slow" else "/fast"
    headers = {"Connection": "close"} if mode == "close" else {}
    conn: http.client.HTTPConnection | None = None
    while not done.is_set():
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.connect()
            except ConnectionRefusedError:
                with tally.lock:
                    tally.refused += 1
                return
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            with tally.lock:
                tally.lost.append(f"{mode} {path}: {exc!r}")
            conn.close()
            conn = None
            continue
        with tally.lock:
            tally.ok += 1
            if mode == "slow" and tally.stopped_at is not None:
                tally.slow_done_after_stop += 1
        if response.will_close:
            conn.close()
            conn = None


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_under_load_loses_no_request(serve, workers: int) -> None:
    args = ["--no-access-log", "--graceful-timeout", "10"]
    if workers > 1:
        args += ["--workers", str(workers)]
    server = serve(APP, *args)
    tally = Tally()
    done = threading.Event()
    modes = ["keepalive"] * 6 + ["close"] * 4 + ["slow"] * 4
    threads = [threading.Thread(target=_client, args=(server.port, m, tally, done), daemon=True) for m in modes]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: tally.ok >= 300, "traffic to flow before the stop")
        with tally.lock:
            tally.stopped_at = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: not any(t.is_alive() for t in threads), "every client to be refused", timeout=18)
    finally:
        done.set()
    assert server.proc.wait(timeout=15) == 0
    assert tally.lost == [], f"{len(tally.lost)} request(s) without a response: {tally.lost[:5]}"
    assert tally.refused == len(threads)
    assert tally.slow_done_after_stop >= 1, "slow handlers in flight at SIGTERM must finish"


def _workers_of(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def test_sighup_restarts_workers_one_by_one_without_losing_a_request(serve) -> None:
    server = serve(APP, "--no-access-log", "--workers", "2")
    wait_for(lambda: len(_workers_of(server.proc.pid)) == 2, "two workers")
    old = _workers_of(server.proc.pid)
    tally = Tally()
    done = threading.Event()
    modes = ["keepalive"] * 4 + ["close"] * 4 + ["slow"] * 2
    threads = [threading.Thread(target=_client, args=(server.port, m, tally, done), daemon=True) for m in modes]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: tally.ok >= 200, "traffic to flow before the restart")
        server.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: not (old & _workers_of(server.proc.pid)), "the old workers to be gone", timeout=15)
        served = tally.ok
        wait_for(lambda: tally.ok >= served + 100, "the new workers to serve")
    finally:
        done.set()
        for t in threads:
            t.join(timeout=15)
    assert len(_workers_of(server.proc.pid)) == 2
    assert tally.lost == [], f"{len(tally.lost)} request(s) without a response: {tally.lost[:5]}"
    assert tally.refused == 0
    code, log = server.stop()
    assert code == 0
    assert "Rolling restart done" in log


def test_a_last_response_is_not_cut_by_a_reset_when_the_client_sends_more(serve) -> None:
    """Closing a socket with unread input makes the kernel answer with a reset, which drops
    whatever of the response is still queued: the engine shuts its sending side and reads on
    until the client closes instead."""
    server = serve(APP, "--no-access-log")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = bytearray(s.recv(65536))
        s.sendall(b"more bytes the server will not read as a request\r\n")
        while True:
            try:
                chunk = s.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert len(body) == 8 * 1024 * 1024


def test_a_handler_that_never_returns_is_cancelled_after_the_grace_period(serve) -> None:
    from websockets.sync.client import connect

    server = serve("tests.apps.lifecycle:app", "--graceful-timeout", "1")
    with connect(f"ws://127.0.0.1:{server.port}/stuck", open_timeout=10):
        started = time.monotonic()
        code, log = server.stop(signal.SIGTERM, timeout=20)
    assert code == 0, log
    assert time.monotonic() - started < 10, log
    assert "Grace period over: cancelling 1 unfinished task(s)" in log
