"""`WebSocket`: what a WebSocket endpoint talks to (Starlette's API).

The protocol itself (handshake, frames, fragmentation, UTF-8 checks, pings, the close
handshake, compression) runs in the engine. A `WebSocket` only moves whole messages between
the handler and a channel: the engine's connection on covet's own server and in the
TestClient, or the ASGI `receive`/`send` pair under uvicorn and friends.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from covet.asgi_scope import handshake_request, route_path
from covet.datastructures import URL, Address, Headers, QueryParams, State
from covet.exceptions import WebSocketException
from covet.requests import Request

if TYPE_CHECKING:
    from covet.applications import Covet

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketException", "WebSocketState"]


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocketDisconnect(Exception):
    """The client closed the connection (or it dropped: 1006); raised by the receive methods."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


Message = str | bytes | tuple[int, str]


class EngineChannel:
    """The engine's `WsConnection` (covet's own server and the TestClient)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @property
    def subprotocols(self) -> list[str]:
        return list(self.conn.subprotocols)

    async def accept(self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]) -> None:
        self.conn.accept(subprotocol, headers)

    async def receive(self) -> Message:
        conn = self.conn
        message = conn.receive_nowait()
        while message is None:
            waiter = asyncio.get_running_loop().create_future()
            conn.set_waiter(waiter)
            await waiter
            message = conn.receive_nowait()
        return message  # type: ignore[no-any-return]

    async def send(self, data: str | bytes) -> bool:
        outcome = self.conn.send(data)
        if outcome == 1:  # over the transport's high-water mark: wait until it drains
            waiter = asyncio.get_running_loop().create_future()
            self.conn.set_drain_waiter(waiter)
            await waiter
        return outcome != 2 and not self.conn.closed

    async def close(self, code: int, reason: str) -> None:
        self.conn.close(code, reason)

    async def finish(self, error: BaseException | None) -> None:
        self.conn.finish(error is not None)


class ASGIChannel:
    """An ASGI server's `receive`/`send` for a `websocket` scope."""

    __slots__ = ("_receive", "_send", "subprotocols", "_connected", "_accepted", "_closed")

    def __init__(self, receive: Any, send: Any, subprotocols: Iterable[str]) -> None:
        self._receive = receive
        self._send = send
        self.subprotocols = list(subprotocols)
        self._connected = False
        self._accepted = False
        self._closed = False

    async def _connect(self) -> None:
        if not self._connected:
            self._connected = True
            message = await self._receive()
            if message["type"] != "websocket.connect":
                raise RuntimeError(f"Expected websocket.connect, got {message['type']!r}")

    async def accept(self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]) -> None:
        await self._connect()
        self._accepted = True
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers})

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            return text if text is not None else message.get("bytes") or b""
        return (message.get("code", 1000), message.get("reason") or "")

    async def send(self, data: str | bytes) -> bool:
        key = "text" if isinstance(data, str) else "bytes"
        try:
            await self._send({"type": "websocket.send", key: data})
        except OSError:  # the client is gone (uvicorn's ClientDisconnected)
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        await self._connect()
        self._closed = True
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:
            pass

    async def finish(self, error: BaseException | None) -> None:
        if error is not None and not self._accepted:
            raise error  # the server answers the handshake with 500, as for any ASGI app
        if self._accepted and not self._closed:
            await self.close(1011 if error is not None else 1000, "")


class WebSocket:
    """One WebSocket connection, as Starlette's `WebSocket`: the handshake request's details
    (headers, query, cookies, path parameters, client), then messages both ways."""

    __slots__ = ("_request", "_channel", "client_state", "application_state", "_close_code", "subprotocol")

    def __init__(
        self,
        request: Request | dict[str, Any],
        channel: EngineChannel | ASGIChannel | Any = None,
        send: Any = None,
        *,
        receive: Any = None,
    ) -> None:
        if isinstance(request, dict):  # Starlette's `WebSocket(scope, receive, send)`, in ASGI middleware
            request, channel = _from_scope(request, receive if receive is not None else channel, send)
        assert channel is not None
        self._request = request
        self._channel = channel
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._close_code: tuple[int, str] | None = None
        self.subprotocol: str | None = None

    # --- the handshake request ---------------------------------------------------------------

    @property
    def app(self) -> Covet | None:
        return self._request.app

    @property
    def url(self) -> URL:
        url = self._request.url
        return URL("wss" if url.scheme == "https" else "ws", url.netloc, url.path, url.query)

    @property
    def base_url(self) -> URL:
        return self._request.base_url

    @property
    def headers(self) -> Headers:
        return self._request.headers

    @property
    def query_params(self) -> QueryParams:
        return self._request.query_params

    @property
    def path_params(self) -> dict[str, Any]:
        return self._request.path_params

    @property
    def cookies(self) -> dict[str, str]:
        return self._request.cookies

    @property
    def client(self) -> Address | None:
        return self._request.client

    @property
    def state(self) -> State:
        return self._request.state

    @property
    def scope(self) -> dict[str, Any]:
        scope = self._request.scope
        scope["type"] = "websocket"
        scope["scheme"] = self.url.scheme
        scope["subprotocols"] = self._channel.subprotocols
        scope.pop("method", None)
        return scope

    def url_for(self, name: str, /, **path_params: Any) -> str:
        return self._request.url_for(name, **path_params)

    # --- Starlette's ASGI-message API ----------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        """The next ASGI-style message: `websocket.connect` first, then `websocket.receive`
        (with "text" or "bytes") and finally `websocket.disconnect` (with "code", "reason")."""
        if self.client_state == WebSocketState.CONNECTING:
            self.client_state = WebSocketState.CONNECTED
            return {"type": "websocket.connect"}
        if self.client_state == WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
        message = await self._channel.receive()
        if isinstance(message, str):
            return {"type": "websocket.receive", "text": message}
        if isinstance(message, bytes):
            return {"type": "websocket.receive", "bytes": message}
        self.client_state = WebSocketState.DISCONNECTED
        return {"type": "websocket.disconnect", "code": message[0], "reason": message[1]}

    async def send(self, message: dict[str, Any]) -> None:
        """Sends an ASGI-style message (`websocket.accept`, `websocket.send`, `websocket.close`)."""
        kind = message["type"]
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"), message.get("headers"))
        elif kind == "websocket.send":
            text = message.get("text")
            await self._send(text if text is not None else message["bytes"])
        elif kind == "websocket.close":
            await self.close(message.get("code", 1000), message.get("reason"))
        else:
            raise RuntimeError(f'Unexpected ASGI message "{kind}"')

    # --- the handler's API -------------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Completes the handshake (101), choosing one of the client's subprotocols if any."""
        if self.application_state != WebSocketState.CONNECTING:
            raise RuntimeError('Cannot call "accept" more than once.')
        if subprotocol is not None and subprotocol not in self._channel.subprotocols:
            raise ValueError(f"Subprotocol {subprotocol!r} was not offered by the client")
        if self.client_state == WebSocketState.CONNECTING:
            self.client_state = WebSocketState.CONNECTED
        await self._channel.accept(subprotocol, [(bytes(k), bytes(v)) for k, v in headers or ()])
        self.subprotocol = subprotocol
        self.application_state = WebSocketState.CONNECTED

    async def _receive_data(self) -> str | bytes:
        if self.application_state != WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
        if self.client_state == WebSocketState.DISCONNECTED:
            assert self._close_code is not None
            raise WebSocketDisconnect(*self._close_code)
        message = await self._channel.receive()
        if isinstance(message, tuple):
            self.client_state = WebSocketState.DISCONNECTED
            self._close_code = message
            raise WebSocketDisconnect(message[0], message[1])
        return message

    async def receive_text(self) -> str:
        """The next message as text; WebSocketDisconnect once the client has gone."""
        data = await self._receive_data()
        if not isinstance(data, str):
            raise RuntimeError("Expected a text message, got a binary one")
        return data

    async def receive_bytes(self) -> bytes:
        """The next message as bytes; WebSocketDisconnect once the client has gone."""
        data = await self._receive_data()
        if not isinstance(data, bytes):
            raise RuntimeError("Expected a binary message, got a text one")
        return data

    async def receive_json(self, mode: str = "text") -> Any:
        """The next message decoded as JSON (`mode` "text" or "binary", as Starlette)."""
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        data = await self._receive_data()
        return json.loads(data)

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def _send(self, data: str | bytes) -> None:
        if self.application_state == WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        if self.application_state != WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
        if not await self._channel.send(data):
            code = self._close_code[0] if self._close_code else 1006
            raise WebSocketDisconnect(code)

    async def send_text(self, data: str) -> None:
        await self._send(data)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(bytes(data) if not isinstance(data, bytes) else data)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await self._send(text if mode == "text" else text.encode())

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Starts the closing handshake; before `accept`, refuses the handshake (HTTP 403)."""
        if self.application_state == WebSocketState.DISCONNECTED:
            return
        self.application_state = WebSocketState.DISCONNECTED
        await self._channel.close(code, reason or "")

    def __repr__(self) -> str:
        return f"<WebSocket {self._request.path} {self.application_state.name}>"


def _from_scope(scope: dict[str, Any], receive: Any, send: Any) -> tuple[Request, ASGIChannel]:
    """The handshake request and channel of an ASGI `websocket` scope."""
    path, raw_path = route_path(scope)
    raw = handshake_request(scope, path, raw_path)
    return Request(raw, scope.get("app")), ASGIChannel(receive, send, scope.get("subprotocols") or ())
