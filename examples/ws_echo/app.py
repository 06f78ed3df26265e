"""A WebSocket echo server with a broadcast room: `python -m covet run examples.ws_echo.app:app`.

Open http://127.0.0.1:8000/ in two browser tabs: what one tab sends to the room, both see.
"""

from __future__ import annotations

from typing import Annotated

from covet import Covet, Query, WebSocket
from covet.responses import HTMLResponse
from covet.websocket_groups import WebSocketGroup

app = Covet(title="WebSocket echo")
room = WebSocketGroup()

PAGE = """<!doctype html>
<meta charset="utf-8"><title>covet WebSocket echo</title>
<input id="text" placeholder="say something" autofocus> <button id="send">send</button>
<ul id="log"></ul>
<script>
  const ws = new WebSocket(`ws://${location.host}/room?name=${Math.random().toString(36).slice(2, 7)}`);
  const log = (text) => document.getElementById("log").insertAdjacentHTML("beforeend", `<li>${text}</li>`);
  ws.onmessage = (event) => log(event.data);
  ws.onclose = (event) => log(`closed ${event.code}`);
  document.getElementById("send").onclick = () => ws.send(document.getElementById("text").value);
</script>
"""


@app.get("/")
async def page() -> HTMLResponse:
    return HTMLResponse(PAGE)


@app.websocket("/echo")
async def echo(websocket: WebSocket, upper: bool = False) -> None:
    """Sends every text message back (upper-cased with ?upper=true) until the client leaves."""
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper() if upper else text)


@app.websocket("/room")
async def chat_room(websocket: WebSocket, name: Annotated[str, Query(min_length=1, max_length=20)]) -> None:
    """Everyone in the room gets every message; the broadcast is framed once, in Rust."""
    await websocket.accept()
    room.add(websocket)
    room.broadcast(f"{name} joined ({len(room)} here)")
    async for text in websocket.iter_text():
        room.broadcast(f"{name}: {text}")
    room.discard(websocket)
    room.broadcast(f"{name} left")
