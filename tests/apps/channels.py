"""An app with rooms for tests/test_channels.py: Redis when CHANNELS_REDIS_URL is set.

The client speaks in commands, one per text message: `say <room> <text>`, `json <room> <text>`,
`bytes <room> <text>`, `join <room>`, `leave <room>`, `count <room>` (answered with
`count <room> <local> <total>`). A connection to /ws/{room} starts in that room.
"""

from __future__ import annotations

import os

from covet import Covet, WebSocket
from covet.channels import Channels, RedisBackend

url = os.environ.get("CHANNELS_REDIS_URL")
if url:
    backend = RedisBackend(url, prefix=os.environ["CHANNELS_PREFIX"], heartbeat=0.5, max_backoff=0.5)
    channels = Channels(backend, sweep_interval=0.2)
else:
    channels = Channels(sweep_interval=0.2)

app = Covet(on_shutdown=[channels.close])


@app.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/presence/{room}")
async def presence(room: str) -> dict[str, int]:
    return {"local": channels.local_count(room), "total": await channels.count(room)}


@app.websocket("/ws/{room}")
async def member(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    await channels.join(room, websocket)
    await websocket.send_text(f"joined {room} {os.getpid()}")
    async for line in websocket.iter_text():
        command, _, rest = line.partition(" ")
        target, _, text = rest.partition(" ")
        if command == "say":
            await channels.send(target, text)
        elif command == "json":
            await channels.send_json(target, {"text": text, "pid": os.getpid()})
        elif command == "bytes":
            await channels.send_bytes(target, text.encode())
        elif command == "join":
            await channels.join(target, websocket)
            await websocket.send_text(f"joined {target} {os.getpid()}")
        elif command == "leave":
            await channels.leave(target, websocket)
            await websocket.send_text(f"left {target}")
        elif command == "count":
            await websocket.send_text(f"count {target} {channels.local_count(target)} {await channels.count(target)}")
    # No leave here on purpose: the sweep takes closed members off the books.
