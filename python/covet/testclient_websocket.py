"""`TestClient.websocket_connect`: a WebSocket session through covet's real engine, in memory.

The handshake is written as HTTP/1.1 bytes into the same Rust protocol object the server
uses; frames go both ways through the engine's codec (the client side masks its frames, as a
real client must). Starlette's session API: `send_text`, `receive_json`, `close`, ... and use
as a context manager.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from covet import _engine
from covet.websockets import WebSocketDisconnect

if TYPE_CHECKING:
    from covet.testclient import TestClient

__all__ = ["WebSocketTestSession"]

#: How long a session waits for the app before failing the test (a handler that never
#: answers would otherwise hang the test run).
WAIT = 30.0


async def _call(func: Callable[[], Any]) -> Any:
    return func()


class _Transport(asyncio.Transport):
    """Collects what the engine writes and wakes the session."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: tuple[str, int]) -> None:
        super().__init__()
        self._loop = loop
        self._client = client
        self.data = bytearray()
        self.protocol: Any = None
        self.closed = False
        self.changed = asyncio.Event()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data
        self.changed.set()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._loop.call_soon(self.protocol.connection_lost, None)
            self.changed.set()

    abort = close

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._client
        if name == "sockname":
            return ("testserver", 80)
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class WebSocketTestSession:
    """A connected test WebSocket (returned by `TestClient.websocket_connect`)."""

    __test__ = False

    def __init__(
        self,
        client: TestClient,
        url: str,
        subprotocols: Iterable[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._client = client
        self._loop = client._loop
        self._errors: list[BaseException] = []
        self._codec = _engine.WsClientCodec()
        self._transport = _Transport(self._loop, client._peer)
        self._protocol: Any = None
        self._closed = False
        self._handler_tasks: set[asyncio.Task[Any]] = set()
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._connect(url, list(subprotocols or []), headers or {})

    # --- plumbing ----------------------------------------------------------------------------

    def _run(self, until: Callable[[], bool], send: bytes = b"") -> None:
        """Gives `send` to the engine, then runs the loop until `until()` holds or the
        connection is closed."""

        async def wait() -> None:
            if send and not self._transport.closed:
                self._protocol.data_received(send)
            while not until() and not self._transport.closed:
                self._transport.changed.clear()
                await asyncio.wait_for(self._transport.changed.wait(), WAIT)
            await asyncio.sleep(0)

        with self._client.app.runtime.collecting(self._errors):
            self._loop.run_until_complete(wait())
        self._raise_errors()

    def _raise_errors(self) -> None:
        if self._errors and self._client.raise_server_exceptions:
            raise self._errors.pop(0)

    def _connect(self, url: str, subprotocols: list[str], headers: dict[str, str]) -> None:
        parts = urlsplit(str(self._client.base_url.join(url)))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {target} HTTP/1.1",
            f"host: {parts.netloc or 'testserver'}",
            "upgrade: websocket",
            "connection: Upgrade",
            f"sec-websocket-key: {key}",
            "sec-websocket-version: 13",
        ]
        if subprotocols:
            lines.append("sec-websocket-protocol: " + ", ".join(subprotocols))
        merged = {k.lower(): v for k, v in self._client.headers.items()}
        merged.update({k.lower(): v for k, v in headers.items()})
        cookies = "; ".join(f"{c.name}={c.value}" for c in self._client.cookies.jar)
        if cookies and "cookie" not in merged:
            merged["cookie"] = cookies
        lines += [f"{k}: {v}" for k, v in merged.items() if k not in ("connection", "upgrade", "host")]
        self._protocol = self._client._server()()
        self._transport.protocol = self._protocol
        self._protocol.connection_made(self._transport)
        handshake = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        before = set(self._client.app.runtime.tasks)
        self._run(lambda: b"\r\n\r\n" in self._transport.data, handshake)
        # The handler Task this connection started: the one its exit waits for (not those of
        # other sessions still open).
        self._handler_tasks = set(self._client.app.runtime.tasks) - before
        head, _, rest = bytes(self._transport.data).partition(b"\r\n\r\n")
        del self._transport.data[:]
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1]) if status_line else 500
        if status != 101:
            self._closed = True
            match = re.search(r"\(code (\d+)\): ?(.*)", rest.decode("utf-8", "replace"))
            if match:
                raise WebSocketDisconnect(int(match.group(1)), match.group(2))
            if status == 403:
                # No route took it (or the app closed it before accepting, with no code): what
                # Starlette's TestClient reports is the ASGI close's default code, 1000.
                raise WebSocketDisconnect(1000, "")
            raise WebSocketDisconnect(1006, f"Handshake refused with HTTP {status}")
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "sec-websocket-protocol":
                self.accepted_subprotocol = value
            self.extra_headers.append((name.encode(), value.encode()))
        self._codec.feed(rest)

    # --- Starlette's session API -------------------------------------------------------------

    def __enter__(self) -> WebSocketTestSession:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if not self._closed:
                self.close(1000)
            tasks = [t for t in self._handler_tasks if not t.done()]
            if tasks:
                with self._client.app.runtime.collecting(self._errors):
                    self._loop.run_until_complete(asyncio.wait(tasks, timeout=WAIT))
        finally:
            self._raise_errors()

    def send(self, message: dict[str, Any]) -> None:
        """An ASGI-style message: {"type": "websocket.receive", "text"/"bytes": ...} or
        {"type": "websocket.disconnect", "code": ...}."""
        if message["type"] == "websocket.disconnect":
            self.close(message.get("code", 1000), message.get("reason"))
        elif message.get("text") is not None:
            self.send_text(message["text"])
        else:
            self.send_bytes(message["bytes"])

    def send_text(self, data: str) -> None:
        self._run(lambda: True, self._codec.encode(data))

    def send_bytes(self, data: bytes) -> None:
        self._run(lambda: True, self._codec.encode(bytes(data)))

    def send_json(self, data: Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send_text(text)
        else:
            self.send_bytes(text.encode())

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Sends a close frame and waits for the server's answer."""
        if self._closed:
            return
        self._closed = True
        self._run(lambda: False, self._codec.encode_close(code, reason or ""))

    def _next(self) -> str | bytes | tuple[int, str]:
        message: Any = None

        def ready() -> bool:
            nonlocal message
            self._codec.feed(bytes(self._transport.data))
            del self._transport.data[:]
            message = self._codec.next()
            replies = self._codec.take_replies()
            if replies and not self._transport.closed:
                self._protocol.data_received(replies)
            return message is not None

        self._run(ready)
        if message is None:
            self._loop.run_until_complete(_call(ready))
        if message is None:
            self._closed = True
            return (1006, "")
        if isinstance(message, tuple):
            self._closed = True
        return message  # type: ignore[no-any-return]

    def receive(self) -> dict[str, Any]:
        """The next ASGI-style message from the app: websocket.send or websocket.close."""
        message = self._next()
        if isinstance(message, str):
            return {"type": "websocket.send", "text": message}
        if isinstance(message, bytes):
            return {"type": "websocket.send", "bytes": message}
        return {"type": "websocket.close", "code": message[0], "reason": message[1]}

    def _data(self) -> str | bytes:
        message = self._next()
        if isinstance(message, tuple):
            raise WebSocketDisconnect(message[0], message[1])
        return message

    def receive_text(self) -> str:
        data = self._data()
        if not isinstance(data, str):
            raise AssertionError(f"Expected a text message, got {data!r}")
        return data

    def receive_bytes(self) -> bytes:
        data = self._data()
        if not isinstance(data, bytes):
            raise AssertionError(f"Expected a binary message, got {data!r}")
        return data

    def receive_json(self, mode: str = "text") -> Any:
        return json.loads(self._data())
