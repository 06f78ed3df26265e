"""A covet app with a FastAPI app and a bare ASGI app mounted under it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import StreamingResponse as FastAPIStreaming

from covet import Covet

legacy = FastAPI()


@legacy.get("/hello/{name}")
async def legacy_hello(name: str, q: int = 0):
    return {"legacy": name, "q": q}


@legacy.post("/echo")
async def legacy_echo(payload: dict):
    return payload


@legacy.get("/stream")
async def legacy_stream():
    async def parts():
        for i in range(3):
            yield f"part{i};"

    return FastAPIStreaming(parts(), media_type="text/plain")


async def bare(scope, receive, send):
    assert scope["type"] == "http"
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


app = Covet()


@app.get("/native")
async def native():
    return {"native": True}


app.mount("/legacy", legacy)
app.mount("/bare", bare)
