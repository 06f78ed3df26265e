"""Closing a worker's listening socket without resetting a client.

Closing a listening socket resets every connection still waiting in its accept queue (with
SO_REUSEPORT each worker has a queue of its own), and every handshake caught half-way. A
client whose `connect()` has returned cannot tell that reset from a crash, and its request is
lost. So, before the socket closes:

1. a socket filter drops new SYNs only: a new client's SYN goes unanswered (it retries, and
   then hears "connection refused" or reaches another worker), while the last ACK of a
   handshake already under way, and any data, still get through and complete it;
2. the queue is accepted, and served (the responses say `Connection: close`), until it has
   stayed empty for `SETTLE` seconds, time for those last ACKs to arrive;
3. only then is the socket closed.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import socket
import sys
from typing import Any

__all__ = ["drop_new_syns", "stop_listening"]

logger = logging.getLogger("covet.server")

#: How long the accept queue must stay empty before the socket closes: many round trips on
#: a LAN, so a handshake answered just before the filter went on has completed.
SETTLE = 0.05
#: However busy the queue, draining ends after this long (the filter keeps new clients out,
#: so only handshakes already under way can still arrive).
MAX_DRAIN = 2.0


class _BpfInstruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _BpfProgram(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_BpfInstruction))]


_SO_ATTACH_FILTER = 26
# Classic BPF: a TCP socket's filter sees the segment from its TCP header, whose byte 13 holds
# the flags. Load it, keep SYN and ACK, and drop (return 0) exactly a SYN without ACK.
_TCP_FLAGS, _SYN, _ACK = 13, 0x02, 0x10
_DROP_SYNS = (
    (0x30, 0, 0, _TCP_FLAGS),  # ldb [13]
    (0x54, 0, 0, _SYN | _ACK),  # and #SYN|ACK
    (0x15, 0, 1, _SYN),  # jeq #SYN: next (drop), else skip one (keep)
    (0x06, 0, 0, 0),  # ret #0
    (0x06, 0, 0, 0xFFFFFFFF),  # ret #-1 (the whole packet)
)


def attach_filter(sock: socket.socket, program: tuple[tuple[int, int, int, int], ...]) -> bool:
    """Attaches a classic BPF program (Linux); False where it cannot be attached."""
    if not sys.platform.startswith("linux"):
        return False
    code = (_BpfInstruction * len(program))(*(_BpfInstruction(*op) for op in program))
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, bytes(_BpfProgram(len(program), code)))
    except OSError:
        logger.debug("Could not attach a socket filter", exc_info=True)
        return False
    return True


def drop_new_syns(listener: socket.socket) -> bool:
    """Step 1 above. Elsewhere than Linux nothing is attached: the queue is still drained, and a
    connection arriving in that instant may be reset."""
    return attach_filter(listener, _DROP_SYNS)


async def stop_listening(
    loop: asyncio.AbstractEventLoop, server: asyncio.Server, sock: socket.socket, engine: Any
) -> None:
    """Stops accepting without resetting anyone (see the module documentation)."""
    listener = socket.socket(fileno=os.dup(sock.fileno()))  # outlives the loop's own close
    listener.setblocking(False)
    accepted: list[Any] = []
    try:
        drop_new_syns(listener)
        server.close()
        await _drain(loop, listener, engine, accepted)
    finally:
        listener.close()
    if accepted:
        logger.info("Serving %d connection(s) that were waiting to be accepted", len(accepted))
        await asyncio.gather(*accepted, return_exceptions=True)


async def _drain(loop: asyncio.AbstractEventLoop, listener: socket.socket, engine: Any, accepted: list[Any]) -> None:
    """Accepts until the queue has been empty for `SETTLE` seconds (or `MAX_DRAIN` is over)."""
    end = loop.time() + MAX_DRAIN
    while True:
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                logger.exception("Accepting queued connections failed")
                return
            conn.setblocking(False)
            accepted.append(loop.create_task(loop.connect_accepted_socket(engine, conn)))
        wait = min(SETTLE, end - loop.time())
        if wait <= 0 or not await _readable(loop, listener, wait):
            return


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket, timeout: float) -> bool:
    """Whether `sock` has something to accept within `timeout` seconds."""
    ready = loop.create_future()
    loop.add_reader(sock.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await asyncio.wait_for(ready, timeout)
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(sock.fileno())
    return True
