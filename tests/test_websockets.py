"""WebSocket endpoints through TestClient, covet's own server and uvicorn: the same app must
behave the same all three ways (parameters, dependencies, subprotocols, close codes,
disconnects, groups, origins)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from covet import Covet, WebSocket, WebSocketDisconnect
from covet.testclient import TestClient
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.websockets:app")


class RealSession:
    """A real client (the `websockets` library) with the TestClient session's API."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws.__enter__()  # as `with connect(...)` would
        self.accepted_subprotocol = ws.subprotocol
        self.extra_headers = [(k.lower().encode(), v.encode()) for k, v in ws.response.headers.raw_items()]

    def __enter__(self) -> RealSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.ws.close()

    def _recv(self) -> str | bytes:
        try:
            return self.ws.recv(timeout=10)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise WebSocketDisconnect(rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "") from None

    def send_text(self, data: str) -> None:
        self.ws.send(data)

    def send_bytes(self, data: bytes) -> None:
        self.ws.send(data)

    def send_json(self, data: Any) -> None:
        self.ws.send(json.dumps(data))

    def receive_text(self) -> str:
        data = self._recv()
        assert isinstance(data, str)
        return data

    def receive_bytes(self) -> bytes:
        data = self._recv()
        assert isinstance(data, bytes)
        return data

    def receive_json(self) -> Any:
        return json.loads(self._recv())

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.ws.close(code, reason)


def ws_connect(c: httpx.Client, path: str, **kwargs: Any) -> Any:
    """Opens a WebSocket the way this client serves: in memory or over a socket."""
    if isinstance(c, TestClient):
        return c.websocket_connect(path, **kwargs)
    url = str(c.base_url).replace("http://", "ws://") + path
    headers = kwargs.get("headers") or {}
    ws = connect(url, subprotocols=kwargs.get("subprotocols"), additional_headers=headers, open_timeout=10)
    return RealSession(ws)


def refused(c: httpx.Client, path: str, **kwargs: Any) -> int:
    """The refusal of a handshake: the close code in memory, the HTTP status over a socket."""
    if isinstance(c, TestClient):
        with pytest.raises(WebSocketDisconnect) as info:
            c.websocket_connect(path, **kwargs)
        return info.value.code
    with pytest.raises(InvalidStatus) as status:
        ws_connect(c, path, **kwargs)
    return status.value.response.status_code


def test_echo_text_and_bytes(client: httpx.Client) -> None:
    with ws_connect(client, "/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\xffbin")
        assert ws.receive_bytes() == b"\x00\xffbin"
        big = "é" * 100_000
        ws.send_text(big)
        assert ws.receive_text() == big


def test_path_query_header_cookie_and_depends(client: httpx.Client) -> None:
    before = client.get("/last-disconnect").json()["cleanups"]
    headers = {"x-client": "probe", "cookie": "flavour=mint"}
    with ws_connect(client, "/params/lobby?token=alice&limit=3", headers=headers) as ws:
        got = ws.receive_json()
    assert got == {
        "room": "lobby",
        "limit": 3,
        "user": "alice",
        "x_client": "probe",
        "flavour": "mint",
        "dep": "dep-ready",
        "path": "/params/lobby",
        "query": {"token": "alice", "limit": "3"},
        "scheme": "ws",
    }
    # The `yield` dependency cleaned up after the endpoint.
    assert client.get("/last-disconnect").json()["cleanups"] == before + 1


def test_validation_failure_refuses_the_handshake(client: httpx.Client) -> None:
    code = refused(client, "/typed/abc")
    assert code == (1008 if isinstance(client, TestClient) else 403)
    code = refused(client, "/params/lobby?limit=x&token=t")
    assert code == (1008 if isinstance(client, TestClient) else 403)
    with ws_connect(client, "/typed/21") as ws:
        assert ws.receive_text() == "42"


def test_websocket_exception_from_a_dependency(client: httpx.Client) -> None:
    code = refused(client, "/params/lobby")  # no token: the dependency raises 1008
    assert code == (1008 if isinstance(client, TestClient) else 403)


def test_subprotocol_and_accept_headers(client: httpx.Client) -> None:
    with ws_connect(client, "/subprotocol", subprotocols=["v1.chat", "v2.chat"]) as ws:
        assert ws.receive_json() == {"offered": ["v1.chat", "v2.chat"]}
        assert ws.accepted_subprotocol == "v2.chat"
        assert (b"x-extra", b"yes") in ws.extra_headers


def test_server_close_code_and_reason(client: httpx.Client) -> None:
    with ws_connect(client, "/close-code") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert (info.value.code, info.value.reason) == (4003, "custom reason")


def test_close_before_accept_refuses(client: httpx.Client) -> None:
    code = refused(client, "/refuse")
    assert code == (4004 if isinstance(client, TestClient) else 403)


def test_client_disconnect_reaches_the_handler(client: httpx.Client) -> None:
    with ws_connect(client, "/disconnect") as ws:
        ws.close(4321, "client leaving")
    for _ in range(200):
        value = client.get("/last-disconnect").json()["value"]
        if value == [4321, "client leaving"]:
            break
    assert value == [4321, "client leaving"]


def test_handler_error_closes_1011(client: httpx.Client) -> None:
    if isinstance(client, TestClient):
        with pytest.raises(RuntimeError, match="handler failed"):
            with client.websocket_connect("/error") as ws:
                ws.send_text("boom")
                ws.receive_text()
        return
    with ws_connect(client, "/error") as ws:
        ws.send_text("boom")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 1011


def test_json_text_and_binary_modes(client: httpx.Client) -> None:
    with ws_connect(client, "/json") as ws:
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"got": {"a": [1, 2]}}
        assert json.loads(ws.receive_bytes()) == {"again": {"a": [1, 2]}}


def test_router_websocket_under_include_prefix(client: httpx.Client) -> None:
    with ws_connect(client, "/v1/r/hello/bob") as ws:
        assert ws.receive_text() == "hello bob"


def test_http_requests_do_not_reach_websocket_routes(client: httpx.Client) -> None:
    assert client.get("/echo").status_code == 404
    assert client.post("/echo").status_code == 404
    assert client.get("/plain").json() == {"ok": "yes"}
    assert refused(client, "/nowhere") in (403, 1000)


def test_group_broadcast_and_member_count(client: httpx.Client) -> None:
    with ws_connect(client, "/room") as a:
        assert a.receive_json() == {"members": 1}
        with ws_connect(client, "/room") as b:
            assert b.receive_json() == {"members": 2}
            a.send_text("to everyone")
            assert a.receive_text() == "to everyone"
            assert b.receive_text() == "to everyone"
            assert client.get("/room/count").json() == {"members": 2}
        # b left: it is no longer counted once its connection has closed.
        a.send_text("still here")
        assert a.receive_text() == "still here"
        for _ in range(200):
            if client.get("/room/count").json() == {"members": 1}:
                break
        assert client.get("/room/count").json() == {"members": 1}


def test_origin_allow_list(client: httpx.Client) -> None:
    with ws_connect(client, "/origin", headers={"origin": "https://good.example"}) as ws:
        assert ws.receive_text() == "welcome"
    code = refused(client, "/origin", headers={"origin": "https://evil.example"})
    assert code == (1008 if isinstance(client, TestClient) else 403)


def test_app_level_origins_and_states() -> None:
    app = Covet(websocket_origins=["https://app.example"])
    seen: dict[str, Any] = {}

    @app.websocket("/state")
    async def state(websocket: WebSocket) -> None:
        seen["before"] = (websocket.client_state.name, websocket.application_state.name)
        assert (await websocket.receive())["type"] == "websocket.connect"
        await websocket.accept()
        seen["after"] = websocket.application_state.name
        message = await websocket.receive()
        seen["message"] = message
        seen["client"] = websocket.client is not None
        await websocket.send({"type": "websocket.send", "text": "ok"})

    with TestClient(app) as c:
        with c.websocket_connect("/state", headers={"origin": "https://app.example"}) as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "ok"
        with pytest.raises(WebSocketDisconnect) as info:
            c.websocket_connect("/state", headers={"origin": "https://other.example"})
        assert info.value.code == 1008
    assert seen == {
        "before": ("CONNECTING", "CONNECTING"),
        "after": "CONNECTED",
        "message": {"type": "websocket.receive", "text": "ping"},
        "client": True,
    }


def test_misuse_is_reported() -> None:
    app = Covet()

    @app.websocket("/twice")
    async def twice(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.accept()

    @app.websocket("/unaccepted")
    async def unaccepted(websocket: WebSocket) -> None:
        await websocket.send_text("too early")

    with TestClient(app) as c:
        with pytest.raises(RuntimeError, match="more than once"):
            with c.websocket_connect("/twice") as ws:
                ws.receive_text()
        with pytest.raises(RuntimeError, match="accept"):
            c.websocket_connect("/unaccepted")


PARITY_SOURCE = """
from typing import Annotated
from {fw} import Depends, Query, WebSocket, WebSocketDisconnect, WebSocketException, APIRouter
from {fw} import {App} as App

app = App()
router = APIRouter(prefix="/r")


def need_token(token: Annotated[str | None, Query()] = None) -> str:
    if token is None:
        raise WebSocketException(code=1008, reason="no token")
    return token


@app.websocket("/items/{{item_id}}")
async def items(websocket: WebSocket, item_id: int, q: int | None = None, token: str = Depends(need_token)):
    await websocket.accept()
    try:
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(f"{{token}} {{item_id}} {{q}} {{data}}")
    except WebSocketDisconnect:
        pass


@router.websocket("/json")
async def json_route(websocket: WebSocket):
    await websocket.accept()
    data = await websocket.receive_json()
    await websocket.send_json({{"got": data, "state": websocket.application_state.name}})
    await websocket.close(code=4000, reason="done")


app.include_router(router)
"""


def _parity_transcript(fw: str, app_name: str) -> list[Any]:
    import importlib

    namespace: dict[str, Any] = {}
    exec(PARITY_SOURCE.format(fw=fw, App=app_name), namespace)
    testclient = importlib.import_module(f"{fw}.testclient")
    disconnect = importlib.import_module(fw).WebSocketDisconnect
    out: list[Any] = []
    with testclient.TestClient(namespace["app"]) as c:
        with c.websocket_connect("/items/3?q=7&token=t") as ws:
            ws.send_text("hello")
            out.append(ws.receive_text())
        for path in ("/items/x?token=t", "/items/3"):
            try:
                with c.websocket_connect(path) as ws:
                    ws.receive_text()
            except disconnect as exc:
                out.append(("refused", exc.code))
        with c.websocket_connect("/r/json") as ws:
            ws.send_json({"a": 1})
            out.append(ws.receive_json())
            try:
                ws.receive_text()
            except disconnect as exc:
                out.append(("closed", exc.code, exc.reason))
    return out


def test_same_transcript_as_fastapi() -> None:
    pytest.importorskip("fastapi")
    expected = _parity_transcript("fastapi", "FastAPI")
    assert expected[0] == "t 3 7 hello"
    assert _parity_transcript("covet", "Covet") == expected


def test_mounted_asgi_app_gets_websockets(client: httpx.Client) -> None:
    with ws_connect(client, "/legacy/ws") as ws:
        ws.send_text("ada")
        assert ws.receive_text() == "starlette says hi to ada under /legacy"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 4010
    assert refused(client, "/legacy/nothing") in (403, 1000, 1006)


def test_exception_handlers_receive_the_websocket() -> None:
    from covet.exceptions import WebSocketRequestValidationError

    app = Covet()

    class Kicked(Exception):
        pass

    @app.exception_handler(WebSocketRequestValidationError)
    async def invalid(websocket: WebSocket, exc: WebSocketRequestValidationError) -> None:
        await websocket.accept()
        await websocket.send_json({"errors": [e["loc"] for e in exc.errors()]})
        await websocket.close(4022)

    @app.exception_handler(Kicked)
    async def kicked(websocket: WebSocket, exc: Kicked) -> None:
        await websocket.close(4403, "kicked")

    @app.websocket("/v/{n}")
    async def v(websocket: WebSocket, n: int) -> None:
        await websocket.accept()
        raise Kicked()

    with TestClient(app) as c:
        with c.websocket_connect("/v/x") as ws:
            assert ws.receive_json() == {"errors": [["path", "n"]]}
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert info.value.code == 4022
        with c.websocket_connect("/v/1") as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert (info.value.code, info.value.reason) == (4403, "kicked")
