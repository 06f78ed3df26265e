"""`TestClient`: an httpx client whose requests go through covet's real engine, in memory.

Each request is written as HTTP/1.1 bytes into the same Rust protocol object the server uses
(parser, router, inline or Task dispatch, response writer); only the socket is replaced by an
in-memory transport. `with TestClient(app):` runs the app's startup and shutdown.
"""

from __future__ import annotations

import asyncio
import io
from http.client import HTTPResponse
from typing import Any

import httpx

from covet.applications import Covet

__all__ = ["TestClient"]


class _MemoryTransport(asyncio.Transport):
    """Collects what the engine writes; `close()` ends the exchange."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: tuple[str, int]) -> None:
        super().__init__()
        self._loop = loop
        self._client = client
        self.data = bytearray()
        self.done: asyncio.Future[None] = loop.create_future()
        self.protocol: Any = None
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.call_soon(self.protocol.connection_lost, None)
        if not self.done.done():
            self.done.set_result(None)

    def is_closing(self) -> bool:
        return self._closing

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


class _Socket:
    """Just enough of a socket for `http.client.HTTPResponse` to parse bytes."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def makefile(self, mode: str) -> io.BytesIO:
        return self._file


class _EngineTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._client._exchange(request)


class TestClient(httpx.Client):
    """A requests-style client for tests (the httpx API), driving the real engine."""

    __test__ = False

    def __init__(
        self,
        app: Covet,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: Any = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        **engine_options: Any,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self._peer = client
        self._loop = asyncio.new_event_loop()
        self._engine: Any = None
        self._engine_options = engine_options
        self._started = False
        super().__init__(
            base_url=base_url,
            transport=_EngineTransport(self),
            follow_redirects=follow_redirects,
            cookies=cookies,
            headers={"user-agent": "testclient", **(headers or {})},
        )

    def __enter__(self) -> TestClient:
        self._loop.run_until_complete(self.app.startup())
        self._started = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._started:
            self._started = False
            self._loop.run_until_complete(self.app.shutdown())
        self.close()

    def close(self) -> None:
        super().close()
        if not self._started and not self._loop.is_closed():
            self._loop.close()

    def websocket_connect(
        self, url: str, subprotocols: list[str] | None = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        """Opens a WebSocket through the real engine, in memory (Starlette's test session API)."""
        from covet.testclient_websocket import WebSocketTestSession

        return WebSocketTestSession(self, url, subprotocols, headers)

    def _server(self) -> Any:
        if self._engine is None or self.app._router is None:
            self._engine = self.app.engine_server(access_log=False, **self._engine_options)
        return self._engine

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        data = _serialize(request)
        errors: list[BaseException] = []
        self.app._error_sink = errors
        try:
            raw = self._loop.run_until_complete(self._send(data))
        finally:
            self.app._error_sink = None
        if errors and self.raise_server_exceptions:
            raise errors[0]
        return _parse(raw, request)

    async def _send(self, data: bytes) -> bytes:
        transport = _MemoryTransport(self._loop, self._peer)
        protocol = self._server()()
        transport.protocol = protocol
        protocol.connection_made(transport)
        protocol.data_received(data)
        await transport.done
        await asyncio.sleep(0)  # let connection_lost run
        return bytes(transport.data)


def _serialize(request: httpx.Request) -> bytes:
    body = request.read()
    lines = [f"{request.method} ".encode() + request.url.raw_path + b" HTTP/1.1"]
    for name, value in request.headers.raw:
        if name.lower() in (b"connection", b"content-length", b"transfer-encoding"):
            continue
        lines.append(name + b": " + value)
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(b"content-length: " + str(len(body)).encode())
    lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _parse(data: bytes, request: httpx.Request) -> httpx.Response:
    response = HTTPResponse(_Socket(data), method=request.method)  # type: ignore[arg-type]
    response.begin()
    body = response.read()
    headers = [(k.lower(), v) for k, v in response.getheaders()]
    return httpx.Response(
        status_code=response.status,
        headers=headers,
        content=body,
        request=request,
    )
