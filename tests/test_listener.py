"""Closing the listening socket at shutdown resets nobody whose handshake has begun
(covet.listener): the drain filter keeps new clients out but lets a half-way handshake
complete, and its connection is accepted and served before the socket closes."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from covet.listener import attach_filter, stop_listening

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="socket filters are Linux's")

# Drops a bare ACK (flags exactly ACK): the last packet of a handshake never reaches the
# listener, so the server side stays half-way while the client's connect() has returned.
_DROP_BARE_ACKS = ((0x30, 0, 0, 13), (0x15, 0, 1, 0x10), (0x06, 0, 0, 0), (0x06, 0, 0, 0xFFFFFFFF))


class _Pong(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert isinstance(self.transport, asyncio.Transport)
        self.transport.write(b"pong:" + data)
        self.transport.close()


async def _serve() -> tuple[asyncio.Server, socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server = await asyncio.get_running_loop().create_server(_Pong, sock=sock)
    return server, sock


def _read_all(sock: socket.socket) -> bytes:
    got = b""
    while chunk := sock.recv(100):
        got += chunk
    return got


def test_a_handshake_caught_half_way_is_completed_and_served() -> None:
    async def scenario() -> bytes:
        loop = asyncio.get_running_loop()
        server, sock = await _serve()
        assert attach_filter(sock, _DROP_BARE_ACKS)
        client = socket.create_connection(sock.getsockname(), timeout=5)
        stopping = loop.create_task(stop_listening(loop, server, sock, _Pong))
        await asyncio.sleep(0)  # the drain filter replaces ours; the queue is being watched
        client.sendall(b"ping")  # data (ACK|PSH) completes the handshake
        await stopping
        sock.close()
        return await loop.run_in_executor(None, _read_all, client)

    assert asyncio.run(scenario()) == b"pong:ping"


def test_queued_connections_are_served_and_new_ones_kept_out() -> None:
    async def scenario() -> tuple[bytes, bool]:
        loop = asyncio.get_running_loop()
        server, sock = await _serve()
        address = sock.getsockname()
        queued = socket.create_connection(address, timeout=5)
        queued.sendall(b"early")
        stopping = loop.create_task(stop_listening(loop, server, sock, _Pong))
        await asyncio.sleep(0)
        late = socket.socket()
        late.settimeout(0.3)  # its SYN is dropped: no answer while the socket drains
        kept_out = late.connect_ex(address) != 0
        late.close()
        await stopping
        sock.close()
        return await loop.run_in_executor(None, _read_all, queued), kept_out

    answer, kept_out = asyncio.run(scenario())
    assert answer == b"pong:early"
    assert kept_out
