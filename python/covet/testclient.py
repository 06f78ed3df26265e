"""`TestClient`: an httpx client whose requests go through covet's real engine, in memory.

Each request is written as HTTP/1.1 bytes into the same Rust protocol object the server uses
(parser, router, inline or Task dispatch, response writer); only the socket is replaced by an
in-memory transport. `with TestClient(app):` runs the app's startup and shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import h11
import httpx

from covet.applications import Covet

__all__ = ["TestClient"]

_T = TypeVar("_T")
logger = logging.getLogger("covet.testclient")


class _MemoryTransport(asyncio.Transport):
    """Holds what the engine writes until the client reads it, pausing the engine's writing
    as a socket's buffer would; `close()` ends the exchange."""

    high_water = 64 * 1024

    def __init__(self, loop: asyncio.AbstractEventLoop, client: tuple[str, int], tls: bool = False) -> None:
        super().__init__()
        self._loop = loop
        self._client = client
        self._tls = tls  # an https:// URL: the engine sees a TLS transport, as under a real one
        self.data = bytearray()
        self.protocol: Any = None
        self._closing = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data
        self._wake()
        if not self._paused and len(self.data) > self.high_water:
            self._paused = True
            self.protocol.pause_writing()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.call_soon(self.protocol.connection_lost, None)
        self._wake()

    async def read(self) -> bytes:
        """What the engine wrote since the last read; b"" once the connection is closed."""
        while not self.data and not self._closing:
            self._waiter = self._loop.create_future()
            await self._waiter
        data = bytes(self.data)
        self.data.clear()
        if self._paused and not self._closing:
            self._paused = False
            self.protocol.resume_writing()
        return data

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def is_closing(self) -> bool:
        return self._closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._client
        if name == "sockname":
            return ("testserver", 443 if self._tls else 80)
        if name == "sslcontext" and self._tls:
            return _SSL_CONTEXT
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


# What `get_extra_info("sslcontext")` returns for an https:// request (nothing is encrypted in memory).
_SSL_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _Exchange(httpx.SyncByteStream):
    """One request through the engine. The response is parsed as the engine writes it, so a
    streamed response (server-sent events) is read piece by piece, and leaving it early (closing
    the response) is the client going away: the engine sees the connection lost."""

    def __init__(self, client: TestClient, request: httpx.Request) -> None:
        self._client = client
        self._errors: list[BaseException] = []
        self._closed = False
        self._started = False  # the response's head has arrived
        self._tasks: set[asyncio.Task[Any]] = set()
        # h11 parses the response; it is told of the request only to know what answer to expect.
        self._parser = h11.Connection(h11.CLIENT)
        self._parser.send(h11.Request(method=request.method, target="/", headers=[("host", "testserver")]))
        self._parser.send(h11.EndOfMessage())
        self._tls = request.url.scheme == "https"
        self._transport = self._run(self._start(_serialize(request)))

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Runs the engine until `coro` is done, collecting the app's errors for this exchange."""
        with self._client.app.runtime.collecting(self._errors):
            return self._client._loop.run_until_complete(coro)

    async def _start(self, data: bytes) -> _MemoryTransport:
        client = self._client
        transport = _MemoryTransport(client._loop, client._peer, self._tls)
        protocol = client._server()()
        transport.protocol = protocol
        protocol.connection_made(transport)
        tasks = client.app.runtime.tasks
        before = set(tasks)
        await client._feed(protocol, data)
        self._tasks = set(tasks) - before
        return transport

    def _next_event(self) -> Any:
        while True:
            try:
                event = self._parser.next_event()
            except h11.RemoteProtocolError as exc:
                # The engine cut the response short (a failed stream): the app's error, if any,
                # says more than the truncated message. Told not to raise it, the client gets
                # the body as far as it came, as with Starlette's TestClient.
                if self._errors and not self._client.raise_server_exceptions and self._started:
                    return h11.EndOfMessage()
                self.close()
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            self._parser.receive_data(self._run(self._transport.read()))

    def head(self) -> h11.Response:
        while True:
            event = self._next_event()
            if isinstance(event, h11.Response):
                self._started = True
                return event
            if isinstance(event, h11.ConnectionClosed):
                self.close()
                raise RuntimeError("The engine closed the connection without a response")

    def __iter__(self) -> Iterator[bytes]:
        while True:
            event = self._next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._run(self._leave())
        if self._errors and self._client.raise_server_exceptions:
            raise self._errors[0]

    async def _leave(self) -> None:
        """The client closes the connection; the request's task is given the time to stop by
        itself (a streamed response notices the client leaving), then cancelled."""
        self._transport.close()
        if self._tasks:
            timeout = self._client.leave_timeout
            _, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                logger.warning("A request still ran %.0f s after its client left: cancelled", timeout)
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(0)  # let connection_lost run


class _EngineTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._client._exchange(request)


class TestClient(httpx.Client):
    """A requests-style client for tests (the httpx API), driving the real engine."""

    __test__ = False
    # Seconds a request's task may take to stop after the client leaves, before it is cancelled.
    leave_timeout = 10.0

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
        self._pipeline: Any = None  # what `_engine` was built for
        # As Starlette's: requests are served as if a proxy had stripped `root_path` first.
        self._engine_options = {**engine_options, "root_path": root_path} if root_path else engine_options
        self._started = False
        super().__init__(
            base_url=base_url,
            transport=_EngineTransport(self),
            follow_redirects=follow_redirects,
            cookies=cookies,
            headers={"user-agent": "testclient", **(headers or {})},
        )

    @property
    def app_state(self) -> dict[str, Any]:
        """What the app's lifespans yielded (Starlette's TestClient attribute)."""
        return dict(self.app.lifespan_state or {})

    def __enter__(self) -> TestClient:
        self._loop.run_until_complete(self.app.startup())
        self._started = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._started:
            self._started = False
            self._loop.run_until_complete(self.app.shutdown())
        # The client stays usable, and may be entered again (Starlette's TestClient): a test
        # module often shares one client across `with client:` blocks. `close()` ends it.

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
        """The engine server for the app's current pipeline (rebuilt after the app changes)."""
        pipeline = self.app.compile()
        if self._engine is None or self._pipeline is not pipeline:
            self._engine = pipeline.engine_server(access_log=False, **self._engine_options)
            self._pipeline = pipeline
        return self._engine

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        exchange = _Exchange(self, request)
        try:
            head = exchange.head()
        except BaseException:
            exchange.close()
            raise
        return httpx.Response(
            status_code=head.status_code,
            headers=head.headers,
            stream=exchange,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    async def _feed(self, protocol: Any, data: bytes) -> None:
        """Hands the request's bytes to the engine (a test may override it to split them)."""
        protocol.data_received(data)


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
