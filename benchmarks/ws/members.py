"""Room members for the broadcast measurement of `make bench-ws`: plain non-blocking sockets on
epoll, each stamped by the kernel on arrival (`SO_TIMESTAMPNS`).

Why kernel stamps: a broadcast is delivered when the frame reaches the member's socket. Ten
thousand members read by Python clients on one core take longer to *read* than the server takes
to *send*; a latency taken when a client gets round to reading measures the client. The kernel
stamps each segment as it lands in the receive queue, so the latency here is arrival time minus
the send time written in the message (both CLOCK_REALTIME, one machine), whatever the client's
own pace. When one read returns several frames, they all get the stamp of the newest segment:
an overestimate for the older ones, never an underestimate.

The kernel floor lives here too: a bare server whose broadcast is one `send()` of a ready frame
per member, measured with the same members.
"""

from __future__ import annotations

import base64
import os
import resource
import select
import socket
import struct
import time
from multiprocessing.connection import Connection

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def open_member(port: int, path: str, source: str) -> socket.socket:
    """A WebSocket connection past its handshake, blocking until then, non-blocking after."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(HANDSHAKE.format(path=path, key=key).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head[:60].decode("latin-1"))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    return sock


def frames(buf: bytearray) -> list[bytes]:
    """Complete server frames' payloads taken off the front of `buf` (server frames are unmasked)."""
    out = []
    while len(buf) >= 2:
        n, at = buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, at = struct.unpack_from("!H", buf, 2)[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, at = struct.unpack_from("!Q", buf, 2)[0], 10
        if len(buf) < at + n:
            break
        out.append(bytes(buf[at : at + n]))
        del buf[: at + n]
    return out


def kernel_stamp(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", data[:16])
            return sec + nsec / 1e9
    return None


def worker(pipe: Connection, port: int, path: str, count: int, source: str) -> None:
    """A client process: connects `count` members, then records arrivals until told to stop.
    Commands on the pipe: `latencies` (send and clear what was recorded), `stop`."""
    socks = {}
    for _ in range(count):
        sock = open_member(port, path, source)
        socks[sock.fileno()] = (sock, bytearray())
    pipe.send(("connected", len(socks)))
    poller = select.epoll()
    for fd in socks:
        poller.register(fd, select.EPOLLIN)
    poller.register(pipe.fileno(), select.EPOLLIN)
    latencies: list[float] = []
    space = socket.CMSG_SPACE(16)
    while True:
        for fd, _ in poller.poll():
            if fd == pipe.fileno():
                command = pipe.recv()
                if command[0] == "latencies":
                    pipe.send(("latencies", latencies))
                    latencies = []
                else:
                    for sock, _ in socks.values():
                        sock.close()
                    pipe.send(("stopped", 0))
                    return
                continue
            sock, buf = socks[fd]
            try:
                data, ancillary, _, _ = sock.recvmsg(65536, space)
            except BlockingIOError:
                continue
            if not data:
                poller.unregister(fd)
                continue
            stamp = kernel_stamp(ancillary)
            buf += data
            for payload in frames(buf):
                if payload.startswith(b"t=") and stamp is not None:
                    latencies.append(stamp - float(payload[2:].split(b" ", 1)[0]))


def floor_server(pipe: Connection, rounds: int, gap: float) -> None:
    """The kernel floor: a bare server, pinned to CPU 0 like covet's, that answers each member's
    handshake with a 101 and then broadcasts by one plain `send()` of a ready frame per member,
    nothing else. Its latencies (seen by the same `worker` clients) and its CPU per send are what
    the kernel costs on this machine: no server can deliver for less. Loopback runs the receiving
    TCP stack and the reader's wake-up in the sender's context, so those are counted here as they
    are in a server's CPU."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    pipe.send(("port", listener.getsockname()[1]))
    expected = pipe.recv()[1]
    socks = []
    while len(socks) < expected:
        sock, _ = listener.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        socks.append(sock)
    pipe.send(("ready", len(socks)))
    pipe.recv()  # go
    user = system = 0.0
    for i in range(rounds):
        payload = f"t={time.time():.9f} {i}".encode()
        frame = bytes([0x81, len(payload)]) + payload
        before = resource.getrusage(resource.RUSAGE_SELF)
        for sock in socks:
            sock.send(frame)
        after = resource.getrusage(resource.RUSAGE_SELF)
        user += after.ru_utime - before.ru_utime
        system += after.ru_stime - before.ru_stime
        time.sleep(gap)
    sends = rounds * len(socks)
    pipe.send(("floor", {"sockets": len(socks), "sys_us": system * 1e6 / sends, "user_us": user * 1e6 / sends}))
    pipe.recv()  # done
    for sock in socks:
        sock.close()
