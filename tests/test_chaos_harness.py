"""The `make chaos` harness itself: its client tells every way a request can end apart, and
its table counts a tiny real scenario correctly (the full run is `make chaos`, not a test)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from chaos.client import Connection
from chaos.load import run_workers
from chaos.servers import start_covet
from chaos.tally import HUNG, LOST, REFUSED, Tally, markdown
from tests.conftest import free_port


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """A loopback listener whose every accepted connection is handed to `behave`."""
    listeners: list[socket.socket] = []

    def start(behave: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                behave(conn)

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


def close_after_reading(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.close()


def answer_503(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\nRetry-After: 1\r\n\r\n{}")
    conn.close()


def never_answer(conn: socket.socket) -> None:
    conn.recv(65536)  # and keeps the connection open, silent


def test_client_tells_refused_lost_hung_and_answered_apart(raw_server: Callable[..., int]) -> None:
    async def one(port: int) -> int | str:
        return (await Connection(port, keep_alive=False, timeout=0.5).request("GET", "/")).outcome

    async def all_four() -> list[int | str]:
        ports = [free_port(), raw_server(close_after_reading), raw_server(never_answer), raw_server(answer_503)]
        return list(await asyncio.gather(*(one(p) for p in ports)))

    assert asyncio.run(all_four()) == [REFUSED, LOST, HUNG, 503]


def test_table_counts_refused_apart_and_flags_losses() -> None:
    tally = Tally("t", no_500=True)
    for outcome in [200, 200, 201, 404, 429, 429, 503, 500, LOST, HUNG, REFUSED, REFUSED]:
        tally.add(outcome)
    tally.extra_lost = 1
    row = tally.row()
    assert {k: row[k] for k in ("sent", "2xx", "4xx", "429", "503", "5xx other", "no answer (lost)")} == {
        "sent": 10,
        "2xx": 3,
        "4xx": 1,
        "429": 2,
        "503": 1,
        "5xx other": 1,
        "no answer (lost)": 3,
    }
    assert "2 refused after the listener closed" in row["notes"]
    assert tally.failures() == ["t: 3 lost", "t: 1 answers 5xx other than 503"]
    assert markdown([tally]).splitlines()[2] == f"| t | 10 | 3 | 1 | 2 | 1 | 1 | 3 | n/a | {row['notes']} |"


def test_a_tiny_scenario_against_covet_is_all_answered() -> None:
    server = start_covet("tests.apps.lifecycle:app")
    tally = Tally("tiny")
    answered = threading.Event()

    async def scenario() -> None:
        stop = asyncio.Event()

        def enough(worker: int, answer: object) -> None:
            if tally.sent >= 40:
                stop.set()
                answered.set()

        conns = [Connection(server.port, keep_alive=k) for k in (True, False)]
        await run_workers(conns, lambda c, w, n: c.request("GET", "/fast"), tally, stop, pace=0, on_answer=enough)

    try:
        asyncio.run(scenario())
    finally:
        code = server.stop()
    assert answered.is_set() and code == 0
    row = tally.row()
    assert row["sent"] == row["2xx"] >= 40
    assert row["no answer (lost)"] == 0 and tally.failures() == []
    assert markdown([tally]).splitlines()[0].startswith("| scenario | sent | 2xx | 4xx | 429 | 503 | 5xx other |")


def test_a_scenario_that_could_not_run_fails_the_run() -> None:
    tally = Tally("4. PostgreSQL", error="initdb not found")
    assert tally.failures() == ["4. PostgreSQL: did not run (initdb not found)"]
    assert "DID NOT RUN: initdb not found" in markdown([tally])
