"""The load: a set of client connections, each sending requests back to back (with a small
pause) until told to stop, every answer counted in a Tally."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from chaos.client import Answer, Connection
from chaos.tally import LOST, REFUSED, Tally

# send(connection, worker index, request number) -> Answer
Send = Callable[[Connection, int, int], Awaitable[Answer]]


async def run_workers(
    connections: list[Connection],
    send: Send,
    tally: Tally,
    stop: asyncio.Event,
    *,
    pace: float = 0.01,
    on_answer: Callable[[int, Answer], None] | None = None,
) -> None:
    """Runs until `stop` is set. A refused connect is retried after 50 ms, so a closed
    listener costs a few refusals rather than a busy loop."""
    lost_on_reuse = 0

    async def worker(index: int, conn: Connection) -> None:
        nonlocal lost_on_reuse
        number = 0
        while not stop.is_set():
            answer = await send(conn, index, number)
            number += 1
            tally.add(answer.outcome)
            lost_on_reuse += answer.outcome == LOST and answer.reused
            if on_answer is not None:
                on_answer(index, answer)
            await asyncio.sleep(0.05 if answer.outcome == REFUSED else pace)
        await conn.close()

    await asyncio.gather(*(worker(i, c) for i, c in enumerate(connections)))
    if lost_on_reuse:
        tally.notes.append(f"{lost_on_reuse} of the lost were sent on a reused keep-alive connection")


class Phases:
    """Load in the background while the caller runs the fault steps in between."""

    def __init__(self, connections: list[Connection], send: Send, tally: Tally, **options: object) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run_workers(connections, send, tally, self.stop, **options))  # type: ignore[arg-type]

    async def hold(self, seconds: float) -> None:
        """Lets the load run for a phase of the scenario (the phase length is the point here,
        not a stand-in for an event)."""
        await asyncio.sleep(seconds)

    async def finish(self) -> None:
        self.stop.set()
        await self.task
