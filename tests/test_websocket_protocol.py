"""The WebSocket protocol on covet's own server: hand-made frames over a socket for every
rule of RFC 6455 (and RFC 7692 compression), plus a real client (the `websockets` library)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import struct
import time
import zlib
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import Server, start_server

APP = "tests.apps.websockets:app"
MAX_SIZE = 65536


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = start_server(APP, "--no-access-log", "--ws-max-size", str(MAX_SIZE), "--ws-max-send-buffer", "262144")
    yield srv
    srv.stop()


class Raw:
    """A WebSocket client written by hand, to send frames no real client would."""

    def __init__(self, port: int, path: str = "/echo", headers: str = "", *, version: str = "13") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: {version}\r\n{headers}\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed during the handshake: {self.buf!r}"
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}

    def send_frame(
        self, opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0, raw: bytes = b""
    ) -> None:
        b0 = (0x80 if fin else 0) | rsv | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        self.sock.sendall(head + payload + raw)

    def _need(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, *, skip_pings: bool = True) -> tuple[int, int, bytes]:
        """(first byte, opcode, payload) of the next frame from the server."""
        while True:
            b0, b1 = self._need(2)
            assert not b1 & 0x80, "server frames must not be masked"
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._need(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._need(8))
            payload = self._need(n)
            if b0 & 0x0F == 0x9 and skip_pings:
                continue
            return b0, b0 & 0x0F, payload

    def expect_close(self) -> tuple[int, str]:
        """Reads until the server's close frame; checks the server then ends the TCP connection."""
        while True:
            _, opcode, payload = self.read_frame()
            if opcode == 0x8:
                break
        code = struct.unpack("!H", payload[:2])[0] if payload else 1005
        try:
            rest = self.sock.recv(1024)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", "the server closes the connection after the close frame"
        return code, payload[2:].decode()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(server: Server) -> Iterator[Raw]:
    client = Raw(server.port)
    assert client.status == 101
    yield client
    client.close()


# --- the opening handshake ------------------------------------------------------------------


def test_handshake_accept_key(server: Server) -> None:
    c = Raw(server.port)
    expected = base64.b64encode(hashlib.sha1((c.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert c.status == 101
    assert c.headers["sec-websocket-accept"] == expected.decode()
    assert c.headers["upgrade"].lower() == "websocket"
    assert "sec-websocket-extensions" not in c.headers  # none offered, none accepted
    c.close()


def test_handshake_refusals(server: Server) -> None:
    c = Raw(server.port, version="8")
    assert c.status == 426
    assert c.headers["sec-websocket-version"] == "13"
    c.close()
    assert Raw(server.port, "/nowhere").status == 403
    # A bad key: 400, and the server keeps serving.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(
        b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert sock.recv(1024).startswith(b"HTTP/1.1 400 ")
    sock.close()
    assert httpx.get(server.url + "/plain").json() == {"ok": "yes"}


def test_frame_sent_with_the_handshake(server: Server) -> None:
    # A client may not send before the 101, but bytes that arrive early are kept, not lost.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    frame = bytes([0x81, 0x82, 0, 0, 0, 0]) + b"hi"
    sock.sendall(
        b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" + frame
    )
    data = b""
    while not data.endswith(b"hi"):
        data += sock.recv(1024)
    assert data.startswith(b"HTTP/1.1 101 ") and data.endswith(b"\r\n\r\n\x81\x02hi")
    sock.close()


# --- frames -----------------------------------------------------------------------------------


def test_masked_text_and_binary_echo(raw: Raw) -> None:
    raw.send_frame(0x1, "héllo".encode())
    assert raw.read_frame() == (0x81, 0x1, "héllo".encode())
    raw.send_frame(0x2, bytes(range(256)) * 200)
    assert raw.read_frame() == (0x82, 0x2, bytes(range(256)) * 200)


def test_unmasked_client_frame_is_1002(raw: Raw) -> None:
    raw.send_frame(0x1, b"no mask", mask=False)
    assert raw.expect_close()[0] == 1002


@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10])
def test_rsv_bits_without_extension_are_1002(raw: Raw, rsv: int) -> None:
    raw.send_frame(0x1, b"x", rsv=rsv)
    assert raw.expect_close()[0] == 1002


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
def test_reserved_opcodes_are_1002(raw: Raw, opcode: int) -> None:
    raw.send_frame(opcode, b"")
    assert raw.expect_close()[0] == 1002


def test_fragmented_message_with_ping_between(raw: Raw) -> None:
    raw.send_frame(0x1, b"frag", fin=False)
    raw.send_frame(0x9, b"are you there")
    raw.send_frame(0x0, b"men", fin=False)
    raw.send_frame(0x0, b"ted")
    assert raw.read_frame(skip_pings=False) == (0x8A, 0xA, b"are you there")  # the pong first
    assert raw.read_frame() == (0x81, 0x1, b"fragmented")


def test_ping_gets_a_pong_with_its_payload(raw: Raw) -> None:
    raw.send_frame(0x9, b"\x00payload\xff")
    assert raw.read_frame(skip_pings=False) == (0x8A, 0xA, b"\x00payload\xff")
    raw.send_frame(0xA, b"unsolicited pong is ignored")
    raw.send_frame(0x1, b"still open")
    assert raw.read_frame() == (0x81, 0x1, b"still open")


def test_fragmented_control_frame_is_1002(raw: Raw) -> None:
    raw.send_frame(0x9, b"ping", fin=False)
    assert raw.expect_close()[0] == 1002


def test_control_frame_over_125_bytes_is_1002(raw: Raw) -> None:
    raw.send_frame(0x9, b"p" * 126)
    assert raw.expect_close()[0] == 1002


def test_continuation_without_a_message_is_1002(raw: Raw) -> None:
    raw.send_frame(0x0, b"orphan")
    assert raw.expect_close()[0] == 1002


def test_new_message_inside_a_fragmented_one_is_1002(raw: Raw) -> None:
    raw.send_frame(0x1, b"first", fin=False)
    raw.send_frame(0x1, b"second")
    assert raw.expect_close()[0] == 1002


def test_invalid_utf8_is_1007(raw: Raw) -> None:
    raw.send_frame(0x1, b"bad \xc3\x28 text")
    assert raw.expect_close()[0] == 1007


def test_utf8_split_across_fragments(raw: Raw) -> None:
    euro = "€".encode()
    raw.send_frame(0x1, b"price " + euro[:1], fin=False)
    raw.send_frame(0x0, euro[1:2], fin=False)
    raw.send_frame(0x0, euro[2:])
    assert raw.read_frame() == (0x81, 0x1, "price €".encode())
    # Invalid across a fragment boundary: refused at the fragment that makes it invalid.
    raw.send_frame(0x1, b"a\xe2\x82", fin=False)
    raw.send_frame(0x0, b"\x28")
    assert raw.expect_close()[0] == 1007


def test_utf8_truncated_at_message_end_is_1007(raw: Raw) -> None:
    raw.send_frame(0x1, b"cut", fin=False)
    raw.send_frame(0x0, "€".encode()[:2])
    assert raw.expect_close()[0] == 1007


def test_oversize_message_is_1009(raw: Raw) -> None:
    raw.send_frame(0x2, b"x" * (MAX_SIZE + 1))
    assert raw.expect_close()[0] == 1009


def test_oversize_fragmented_message_is_1009(raw: Raw) -> None:
    raw.send_frame(0x2, b"x" * (MAX_SIZE // 2), fin=False)
    raw.send_frame(0x0, b"x" * (MAX_SIZE // 2), fin=False)
    raw.send_frame(0x0, b"x")
    assert raw.expect_close()[0] == 1009


def test_message_at_the_limit_passes(raw: Raw) -> None:
    raw.send_frame(0x2, b"x" * MAX_SIZE)
    assert raw.read_frame() == (0x82, 0x2, b"x" * MAX_SIZE)


# --- the closing handshake -------------------------------------------------------------------


def test_client_close_is_echoed_and_reaches_the_handler(server: Server) -> None:
    c = Raw(server.port, "/disconnect")
    c.send_frame(0x8, struct.pack("!H", 4100) + b"see you")
    assert c.expect_close() == (4100, "")
    c.close()
    for _ in range(200):
        value = httpx.get(server.url + "/last-disconnect").json()["value"]
        if value == [4100, "see you"]:
            break
    assert value == [4100, "see you"]


def test_server_close_then_client_echo(server: Server) -> None:
    c = Raw(server.port, "/close-code")
    _, opcode, payload = c.read_frame()
    assert opcode == 0x8 and payload == struct.pack("!H", 4003) + b"custom reason"
    c.send_frame(0x8, payload[:2])
    assert c.sock.recv(1024) == b""
    c.close()


@pytest.mark.parametrize("payload", [b"\x03", struct.pack("!H", 1005), struct.pack("!H", 999), b"\x03\xe8\xff"])
def test_bad_close_frames(raw: Raw, payload: bytes) -> None:
    raw.send_frame(0x8, payload)
    assert raw.expect_close()[0] == (1007 if payload.endswith(b"\xff") else 1002)


def test_empty_close_is_echoed_empty(raw: Raw) -> None:
    raw.send_frame(0x8, b"")
    assert raw.expect_close()[0] == 1005


# --- compression ------------------------------------------------------------------------------


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def test_permessage_deflate_by_hand(server: Server) -> None:
    c = Raw(server.port, headers="Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
    ext = c.headers["sec-websocket-extensions"]
    assert ext == "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    text = "compressible " * 500
    packed = _deflate(text.encode())
    c.send_frame(0x1, packed[:10], fin=False, rsv=0x40)
    c.send_frame(0x0, packed[10:])
    b0, opcode, payload = c.read_frame()
    assert opcode == 0x1 and b0 & 0x40  # the echo is compressed too
    assert zlib.decompressobj(wbits=-15).decompress(payload + b"\x00\x00\xff\xff").decode() == text
    c.send_frame(0x1, b"short", rsv=0)  # uncompressed messages are still allowed
    assert c.read_frame() == (0x81, 0x1, b"short")
    c.send_frame(0x0, b"x", rsv=0x40, fin=True)  # RSV1 on a continuation
    assert c.expect_close()[0] == 1002
    c.close()


def test_deflate_bomb_is_1009(server: Server) -> None:
    c = Raw(server.port, headers="Sec-WebSocket-Extensions: permessage-deflate\r\n")
    c.send_frame(0x2, _deflate(b"\x00" * (MAX_SIZE * 4)), rsv=0x40)
    assert c.expect_close()[0] == 1009
    c.close()


def test_unsupported_deflate_offer_is_declined(server: Server) -> None:
    c = Raw(server.port, headers="Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n")
    assert c.status == 101 and "sec-websocket-extensions" not in c.headers
    c.send_frame(0x1, b"x", rsv=0x40)
    assert c.expect_close()[0] == 1002
    c.close()


# --- a real client --------------------------------------------------------------------------


def test_real_client_with_compression_and_fragments(server: Server) -> None:
    url = f"ws://127.0.0.1:{server.port}/echo"
    with connect(url, open_timeout=10) as ws:
        assert ws.protocol.extensions  # permessage-deflate was negotiated
        text = json.dumps({"rows": list(range(3000))})
        ws.send(text)
        assert ws.recv(timeout=10) == text
        ws.send(["frag", "mented"])  # one message in several frames
        assert ws.recv(timeout=10) == "fragmented"
        ws.ping(b"keepalive").wait(10)
    with connect(url, open_timeout=10, compression=None) as ws:
        ws.send(b"\x00" * 1000)
        assert ws.recv(timeout=10) == b"\x00" * 1000


# --- limits and timers ------------------------------------------------------------------------


def test_slow_consumer_is_dropped(server: Server) -> None:
    # The client never reads; broadcasts do not await, so the send-buffer limit must drop it.
    c = Raw(server.port, "/flood")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    state: dict[str, object] = {}
    for _ in range(400):
        state = httpx.get(server.url + "/slow-state").json()
        if state["flood"] is not None:
            break
        time.sleep(0.05)
    assert state["flood"] == 0
    c.close()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def test_send_waits_for_a_client_that_does_not_read(server: Server) -> None:
    before = _rss_kb(server.proc.pid)
    c = Raw(server.port, "/firehose")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    seen: list[int] = []
    while len(seen) < 4 or len(set(seen[-4:])) > 1:  # until the handler stops making progress
        seen.append(httpx.get(server.url + "/slow-state").json()["firehose"] or 0)
        time.sleep(0.2)
    assert seen[-1] < 2048  # blocked in send_bytes, not done: 128 MB were not buffered
    assert _rss_kb(server.proc.pid) - before < 48 * 1024
    c.close()


def test_idle_client_is_pinged_and_dropped_without_pong() -> None:
    srv = start_server(APP, "--no-access-log", "--ws-ping-interval", "0.3", "--ws-ping-timeout", "0.5")
    try:
        c = Raw(srv.port)
        b0, opcode, payload = c.read_frame(skip_pings=False)
        assert opcode == 0x9  # the server pings a silent client
        assert c.expect_close()[0] == 1011  # and gives up when no pong comes
        c.close()
        # A client that answers stays connected.
        with connect(f"ws://127.0.0.1:{srv.port}/echo", open_timeout=10) as ws:
            for i in range(3):
                ws.send(f"m{i}")
                assert ws.recv(timeout=10) == f"m{i}"
    finally:
        srv.stop()


def test_shutdown_closes_with_1001() -> None:
    srv = start_server(APP, "--no-access-log")
    c = Raw(srv.port)
    c.send_frame(0x1, b"before")
    assert c.read_frame() == (0x81, 0x1, b"before")
    srv.proc.send_signal(signal.SIGTERM)
    _, opcode, payload = c.read_frame()
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1001
    c.send_frame(0x8, payload[:2])
    code, _ = srv.stop()
    assert code == 0
    c.close()
