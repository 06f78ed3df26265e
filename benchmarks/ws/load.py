"""The load client of `make bench-ws`: many WebSocket connections per process, on asyncio
(uvloop), with a frame codec of a few lines (masking with a zero key: a valid mask that costs
nothing), so that the client stays cheap next to the server it measures.

Each client process is driven by the parent through a pipe: it connects its share of the
connections from its own loopback source address, then runs what it is told (hold, record
broadcasts, echo) and reports back.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from multiprocessing.connection import Connection
from typing import Any

HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame with an all-zero key (payload unchanged)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\x00\x00\x00\x00" + payload


class Client(asyncio.Protocol):
    """One WebSocket connection: the handshake, then server frames to `on_message`."""

    def __init__(self, path: str, on_message: Any) -> None:
        self.path = path
        self.on_message = on_message
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(HANDSHAKE.format(path=self.path, key=key).encode())

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buf += data
        if not self.open.done():
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                self.open.set_exception(RuntimeError(bytes(self.buf[:60]).decode("latin-1")))
                return
            del self.buf[: end + 4]
            self.open.set_result(None)
        buf = self.buf
        while len(buf) >= 2:
            opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, at = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, at = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < at + n:
                return
            payload = bytes(buf[at : at + n])
            del buf[: at + n]
            if opcode == 9 and self.transport is not None:
                self.transport.write(frame(10, payload))
            elif opcode in (1, 2):
                self.on_message(self, payload, now)

    def send(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(1, payload))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(ConnectionError("closed during the handshake"))


async def connect_many(
    port: int, path: str, count: int, source: str, on_message: Any, concurrency: int = 100
) -> list[Client]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)

    async def one() -> Client:
        async with gate:
            for attempt in range(5):
                try:
                    _, client = await loop.create_connection(
                        lambda: Client(path, on_message), "127.0.0.1", port, local_addr=(source, 0)
                    )
                    await asyncio.wait_for(client.open, 30)
                    return client
                except OSError:
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise ConnectionError(f"could not connect to {path} from {source}")

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _serve(pipe: Connection, port: int, path: str, count: int, source: str) -> None:
    """Connects, says so, then obeys: `broadcast-record`, `echo <seconds>`, `stop`."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    echoes = [0]
    echoing = [False]

    def on_message(client: Client, payload: bytes, now: float) -> None:
        if echoing[0]:
            echoes[0] += 1
            client.send(payload)
        elif payload.startswith(b"t="):
            latencies.append(now - float(payload[2:].split(b" ", 1)[0]))

    clients = await connect_many(port, path, count, source, on_message)
    pipe.send(("connected", len(clients)))
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "latencies":
            pipe.send(("latencies", latencies))
            latencies = []
        elif command[0] == "echo":
            echoing[0] = True
            for client in clients:
                client.send(b"x" * 32)
            await asyncio.sleep(command[1])
            start = echoes[0]
            await asyncio.sleep(command[2])
            pipe.send(("echoes", echoes[0] - start))
            echoing[0] = False
        elif command[0] == "stop":
            for client in clients:
                if client.transport is not None:
                    client.transport.abort()
            pipe.send(("stopped", 0))
            return


def worker(pipe: Connection, port: int, path: str, count: int, source: str) -> None:
    """Entry point of a client process."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(pipe, port, path, count, source))


async def control_broadcasts(port: int, rounds: int, gap: float) -> list[tuple[float, int]]:
    """Sends `rounds` messages to the room through /control, each stamped with its send time
    (CLOCK_REALTIME, the clock of the kernel's receive stamps in `members`);
    returns the server's answers: (seconds its `send` took, members it went to)."""
    answers: list[tuple[float, int]] = []

    def on_answer(client: Client, payload: bytes, now: float) -> None:
        _, took, sent = payload.split()
        answers.append((float(took), int(sent)))

    (client,) = await connect_many(port, "/control", 1, "127.0.0.1", on_answer)
    for i in range(rounds):
        client.send(f"t={time.time():.9f} {i}".encode())
        await asyncio.sleep(gap)
    assert client.transport is not None
    client.transport.close()
    return answers
