"""Rooms of WebSockets (`covet.channels`): join and leave rooms, send to a room, count who is
there, in one process or across many through Redis.

```python
from covet.channels import Channels

channels = Channels.from_url(os.environ.get("REDIS_URL"))  # in-process when unset


@app.websocket("/ws/{room}")
async def chat(websocket: WebSocket, room: str):
    await websocket.accept()
    async with channels.joined(websocket, room):
        async for text in websocket.iter_text():
            await channels.send(room, text)
```

Delivery to a room's local members happens in Rust, one call per message (see
`covet.websocket_groups`). See docs/channels.md.
"""

from covet.channels.backends import ChannelBackend, InProcessBackend
from covet.channels.rooms import Channels

__all__ = ["Channels", "ChannelBackend", "InProcessBackend", "RedisBackend"]


def __getattr__(name: str) -> object:
    # redis is an optional dependency: imported only by those who use it.
    if name == "RedisBackend":
        from covet.channels.redis_backend import RedisBackend

        return RedisBackend
    raise AttributeError(name)
