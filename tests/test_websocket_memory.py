"""The receive queue is bounded in decompressed bytes (covet issue 14, item 4).

With permessage-deflate a few kilobytes on the wire inflate to megabytes: 60 compressed frames
of 1 MiB zeros are about 60 KB. A handler that never reads used to make the server inflate and
queue all of them (reading paused only after 32 *messages*), about 34 MiB per connection. Now
the engine stops inflating and stops reading once a connection has 1 MiB queued, or once the
process has 16 MiB queued over all its connections; a handler that is waiting in `receive()`
still gets its next message, so readers are never starved by connections that do not read.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
import zlib
from collections.abc import Callable, Iterator

import pytest
from websockets.sync.client import connect

from tests.conftest import Server, start_server, wait_for

APP = "tests.apps.ws_memory:app"
MIB = 1024 * 1024
CONNECTIONS = 30
FRAMES = 60


# (server options, how much the server's RSS may grow). Before, it grew by ~1.8 GB in each.
BUDGETS = {
    # The defaults: 1 MiB per connection, 16 MiB for the worker.
    "defaults": ((), 32 * MIB),
    # The per-connection bound alone (one 1 MiB message each, as the limit is 1 MiB).
    "per-connection": (("--ws-max-process-queue-bytes", str(1 << 30)), 64 * MIB),
    # A small worker budget: a couple of messages over all the connections.
    "per-process": (("--ws-max-queue-bytes", "65536", "--ws-max-process-queue-bytes", str(MIB)), 10 * MIB),
}


@pytest.fixture(params=list(BUDGETS))
def budget(request: pytest.FixtureRequest) -> Iterator[tuple[Server, int]]:
    options, allowed = BUDGETS[request.param]
    srv = start_server(APP, "--no-access-log", "--graceful-timeout", "1", *options)
    yield srv, allowed
    srv.stop()


def deflate(payload: bytes) -> bytes:
    """One message compressed as permessage-deflate sends it (raw deflate, tail removed)."""
    packer = zlib.compressobj(wbits=-15)
    packed = packer.compress(payload) + packer.flush(zlib.Z_SYNC_FLUSH)
    assert packed.endswith(b"\x00\x00\xff\xff")
    return packed[:-4]


def compressed_frame(packed: bytes) -> bytes:
    """A final binary frame with RSV1 (compressed), masked with the all-zero key."""
    n = len(packed)
    if n < 126:
        head = struct.pack("!BB", 0xC2, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0xC2, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0xC2, 0x80 | 127, n)
    return head + b"\x00\x00\x00\x00" + packed


def text_frame(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 126
    return struct.pack("!BB", 0x81, 0x80 | len(data)) + b"\x00\x00\x00\x00" + data


def recv_short_text(sock: socket.socket) -> str:
    """One short uncompressed text frame from the server."""
    head = sock.recv(2, socket.MSG_WAITALL)
    assert len(head) == 2 and head[0] == 0x81 and head[1] < 126, head
    return sock.recv(head[1], socket.MSG_WAITALL).decode()


def open_deflate(port: int, path: str) -> socket.socket:
    """A raw client that negotiated permessage-deflate (the frames are prepared once, not
    compressed again per connection as a client library would)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "connection closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"permessage-deflate" in head.lower()
    return sock


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def settled(pid: int) -> object:
    """A predicate true once the server has used no CPU for half a second: it has inflated
    everything it is going to."""
    last = {"ticks": -1, "since": time.monotonic()}

    def check() -> bool:
        ticks, now = cpu_ticks(pid), time.monotonic()
        if ticks != last["ticks"]:
            last.update(ticks=ticks, since=now)
            return False
        return now - last["since"] >= 0.5

    return check


def test_unread_compressed_messages_do_not_grow_memory(budget: tuple[Server, int]) -> None:
    server, allowed = budget
    pid = server.proc.pid
    with server.client() as http:
        assert http.get("/health").json() == {"ok": True}
    with connect(f"ws://127.0.0.1:{server.port}/sequence") as warm:
        warm.send(b"00000000" + bytes(1000))
        assert warm.recv(timeout=10) == "00000000:1008"
    before = rss_bytes(pid)

    burst = compressed_frame(deflate(bytes(MIB))) * FRAMES
    assert len(burst) < 128 * 1024  # ~60 MiB of messages in a few kilobytes on the wire
    holders = [open_deflate(server.port, "/hold") for _ in range(CONNECTIONS)]
    try:
        for sock in holders:
            sock.sendall(burst)

        # A handler that reads gets every message, in order, while the others hold theirs.
        with connect(f"ws://127.0.0.1:{server.port}/sequence", max_size=MIB) as reader:
            for i in range(FRAMES):
                reader.send(b"%08d" % i + bytes(MIB - 8))
            replies = [reader.recv(timeout=20) for _ in range(FRAMES)]
        assert replies == [f"{i:08d}:{MIB}" for i in range(FRAMES)]
        with server.client() as http:
            assert http.get("/health").json() == {"ok": True}

        wait_for(settled(pid), "the server to finish inflating", timeout=60)
        grown = rss_bytes(pid) - before
        print(f"server RSS grew by {grown / MIB:.1f} MiB")
        # The budget, one message over it, and allocator slack.
        assert grown < allowed, f"server RSS grew by {grown / MIB:.0f} MiB"

        # Paused, not dropped: once the handlers read, each gets all it was sent.
        with server.client() as http:
            http.post("/release").raise_for_status()
        for sock in holders:
            sock.sendall(text_frame("count"))
        assert [recv_short_text(sock) for sock in holders] == [str(FRAMES)] * CONNECTIONS
    finally:
        for sock in holders:
            sock.close()


def test_close_handshake_completes_behind_unread_messages(serve: Callable[..., Server]) -> None:
    """A handler that returns with messages unread: what it left is freed and reading goes on,
    so the client's close echo is read behind them and the server closes the connection,
    instead of waiting out the close timeout (20 s) with reading paused."""
    server = serve(APP, "--no-access-log")
    sock = open_deflate(server.port, "/first")
    try:
        sock.sendall(text_frame("one") + compressed_frame(deflate(bytes(MIB))) * FRAMES)
        head = sock.recv(2, socket.MSG_WAITALL)
        assert head == b"\x88\x02", head  # close 1000 from the handler's return
        assert sock.recv(2, socket.MSG_WAITALL) == b"\x03\xe8"
        sock.settimeout(5)
        sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # the echo, masked with zeros
        assert sock.recv(1) == b""  # the server ends the TCP connection
    finally:
        sock.close()
