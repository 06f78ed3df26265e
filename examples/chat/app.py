"""A chat with rooms: `python -m covet run examples.chat.app:app --workers 2`.

Open http://127.0.0.1:8000/?room=red in a few tabs (and ?room=blue in others): a line said in
a room reaches everyone in that room, whichever worker process serves them, and nobody else.
With REDIS_URL set (e.g. redis://127.0.0.1:6379/0) the workers share rooms through Redis; unset,
rooms live in each process (fine with one worker).
"""

from __future__ import annotations

import os
import pathlib
from typing import Annotated

from covet import Covet, Path, Query, WebSocket
from covet.channels import Channels
from covet.responses import HTMLResponse

channels = Channels.from_url(os.environ.get("REDIS_URL"), prefix=os.environ.get("CHAT_PREFIX", "covet:chat:"))
app = Covet(title="covet chat", on_shutdown=[channels.close])

Room = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Name = Annotated[str, Query(min_length=1, max_length=20)]
MAX_LINE = 500

PAGE = pathlib.Path(__file__).with_name("page.html").read_text(encoding="utf-8")


@app.get("/")
async def page() -> HTMLResponse:
    return HTMLResponse(PAGE)


@app.get("/rooms/{room}")
async def room_info(room: Room) -> dict[str, object]:
    """Who is in a room, counted across every worker."""
    return {"room": room, "online": await channels.count(room)}


@app.websocket("/ws/{room}")
async def chat(websocket: WebSocket, room: Room, name: Name = "guest") -> None:
    """Joins `room`; every text line sent is said to the room as JSON; leaving is announced."""
    await websocket.accept()
    async with channels.joined(websocket, room):
        await channels.send_json(room, {"type": "join", "name": name, "online": await channels.count(room)})
        async for text in websocket.iter_text():
            text = text.strip()[:MAX_LINE]
            if text:
                await channels.send_json(room, {"type": "message", "room": room, "name": name, "text": text})
    await channels.send_json(room, {"type": "leave", "name": name, "online": await channels.count(room)})
