"""A clock over server-sent events: `/` is a page whose `EventSource` shows the time, `/clock`
streams a `tick` event every `every` seconds, resuming after the `Last-Event-ID` a reconnecting
browser sends.

Run: `.venv/bin/python -m covet run examples.sse_clock.app:app`, open http://127.0.0.1:8000/
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

from covet import Covet, Header, Query
from covet.responses import HTMLResponse
from covet.sse import EventSourceResponse, ServerSentEvent

app = Covet(title="SSE clock")
app.state.listeners = 0

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>covet clock</title></head>
<body>
  <h1 id="time">connecting...</h1>
  <p>tick <span id="n">-</span></p>
  <script>
    // EventSource reconnects by itself, sending the last id it saw as Last-Event-ID.
    const source = new EventSource("/clock");
    source.addEventListener("tick", (event) => {
      const tick = JSON.parse(event.data);
      document.getElementById("time").textContent = tick.time;
      document.getElementById("n").textContent = tick.n;
    });
  </script>
</body>
</html>
"""


@app.get("/", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    return HTMLResponse(PAGE)


@app.get("/clock")
async def clock(
    every: float = Query(1.0, gt=0, le=60),
    last_event_id: int | None = Header(None, ge=0),
) -> EventSourceResponse:
    """Ticks numbered from 1, or from the one after `Last-Event-ID` when a client reconnects."""
    first = (last_event_id or 0) + 1

    async def ticks() -> AsyncIterator[ServerSentEvent]:
        app.state.listeners += 1
        try:
            n = first
            while True:
                now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
                yield ServerSentEvent({"n": n, "time": now}, event="tick", id=n)
                n += 1
                await asyncio.sleep(every)
        finally:
            # Runs as soon as the client goes away.
            app.state.listeners -= 1

    return EventSourceResponse(ticks(), ping=15)


@app.get("/listeners")
async def listeners() -> dict[str, int]:
    return {"listeners": app.state.listeners}
