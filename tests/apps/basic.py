"""The app the shared test-suite serves through covet's engine, uvicorn and TestClient."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import os
import tempfile
import threading
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel

from covet import BackgroundTasks, Covet, HTTPException, Request
from covet.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

EVENTS: list[str] = []


@asynccontextmanager
async def lifespan(app: Covet):
    EVENTS.append("startup")
    app.state.greeting = "hi from lifespan"
    yield
    EVENTS.append("shutdown")


app = Covet(lifespan=lifespan)


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class Teapot(Exception):
    pass


@app.exception_handler(Teapot)
async def teapot_handler(request: Request, exc: Teapot) -> Response:
    return JSONResponse({"detail": "short and stout"}, status_code=418)


@app.get("/")
async def root():
    return {"hello": "world"}


@app.get("/plaintext")
async def plaintext():
    return PlainTextResponse("Hello, World!")


@app.get("/html")
async def html():
    return HTMLResponse("<h1>hi</h1>")


@app.get("/users/{user_id}", name="user")
async def user(request: Request):
    return {"id": request.path_params["user_id"], "q": request.query_params.get("q")}


@app.get("/ints/{n:int}")
async def ints(n: int):
    return {"n": n, "type": type(n).__name__}


@app.get("/floats/{x:float}")
async def floats(request: Request):
    return {"x": request.path_params["x"]}


@app.get("/uuids/{u:uuid}")
async def uuids(request: Request):
    return {"u": str(request.path_params["u"])}


@app.get("/files/{p:path}")
async def paths(p: str):
    return {"p": p}


@app.get("/query")
async def query(request: Request):
    qp = request.query_params
    return {"all": qp.multi_items(), "tags": qp.getlist("tag")}


@app.get("/typed")
async def typed(limit: int = 10, flag: bool = False):
    return {"limit": limit, "flag": flag}


@app.get("/headers")
async def headers(request: Request):
    return {
        "x_multi": request.headers.getlist("x-multi"),
        "ua": request.headers.get("User-Agent"),
        "cookies": request.cookies,
        "client_is_set": request.client is not None,
        "url_path": request.url.path,
        "method": request.method,
    }


@app.post("/echo")
async def echo(request: Request):
    body = await request.body()
    return Response(body, media_type=request.headers.get("content-type", "application/octet-stream"))


@app.post("/json")
async def echo_json(request: Request):
    data = await request.json()
    return {"received": data}


@app.post("/stream-in")
async def stream_in(request: Request):
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"size": size}


@app.post("/items", status_code=201)
async def create_item(request: Request):
    item = Item.model_validate_json(await request.body())
    return item


@app.put("/items/{item_id}")
async def put_item(item_id: int):
    return {"updated": item_id}


@app.delete("/items/{item_id}")
async def delete_item(item_id: int):
    return Response(status_code=204)


@app.get("/types")
async def types():
    return {
        "dt": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "d": datetime.date(2026, 1, 2),
        "u": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "dec": decimal.Decimal("1.5"),
        "color": Color.RED,
        "point": Point(1, 2),
        "model": Item(name="x", price=1.0),
        "tuple": (1, 2),
        "none": None,
        "float": 0.5,
        "big": 2**70,
        "unicode": 'żółw "quoted"\n',
    }


@app.get("/list")
async def a_list():
    return [1, "two", None]


@app.get("/string")
async def a_string():
    return "just text"


@app.get("/none")
async def nothing():
    return None


@app.get("/stream")
async def stream():
    async def gen():
        for i in range(3):
            await asyncio.sleep(0)
            yield f"chunk{i};"

    return StreamingResponse(gen(), media_type="text/plain")


@app.get("/stream-sync")
def stream_sync():
    def gen():
        yield b"a"
        yield b"b"

    return StreamingResponse(gen())


_FILE = os.path.join(tempfile.gettempdir(), f"covet-test-{os.getpid()}.txt")


@app.get("/file")
async def a_file():
    with open(_FILE, "w") as f:
        f.write("file contents\n" * 100)
    return FileResponse(_FILE, filename="data.txt")


@app.get("/redirect")
async def redirect():
    return RedirectResponse("/")


@app.get("/cookie")
async def set_cookie():
    response = JSONResponse({"ok": True})
    response.set_cookie("session", "abc", httponly=True)
    response.headers["x-custom"] = "yes"
    return response


@app.get("/missing")
async def missing():
    raise HTTPException(404, "Item not found", headers={"x-error": "1"})


@app.get("/teapot")
async def teapot():
    raise Teapot()


@app.get("/boom")
async def boom():
    raise RuntimeError("secret internals")


@app.get("/bad-header")
async def bad_header():
    return Response("x", headers={"x-bad": "a\r\nInjected: yes"})


IN_FLIGHT = {"slow": 0}


@app.get("/slow")
async def slow(delay: float = 0.5):
    IN_FLIGHT["slow"] += 1
    try:
        await asyncio.sleep(delay)
    finally:
        IN_FLIGHT["slow"] -= 1
    return {"slept": delay}


@app.get("/in-flight")
async def in_flight():
    return IN_FLIGHT


@app.get("/sync")
def sync_handler():
    return {"thread": threading.current_thread().name.startswith("covet-sync")}


@app.get("/block")
def block(delay: float = 0.5):
    time.sleep(delay)
    return {"blocked": delay}


@app.get("/state")
async def state(request: Request):
    return {"greeting": request.app.state.greeting}


TASK_LOG: list[str] = []


@app.get("/background")
async def background():
    tasks = BackgroundTasks()
    tasks.add_task(TASK_LOG.append, "done")
    return JSONResponse({"queued": True}, background=tasks)


@app.get("/background-log")
async def background_log():
    return {"log": TASK_LOG}


@app.get("/url-for")
async def url_for(request: Request):
    return {"path": request.app.url_path_for("user", user_id="42")}


@app.api_route("/multi", methods=["GET", "POST"])
async def multi(request: Request):
    return {"method": request.method}


@app.get("/pid")
async def pid():
    return {"pid": os.getpid()}


@app.get("/big")
async def big():
    return {"data": "x" * 200_000}


@app.get("/any")
async def any_value() -> Any:
    return {"status": "ok"}


@app.get("/file-missing")
async def file_missing():
    return FileResponse("/nonexistent/covet-test-file")


@app.get("/big-bytes")
async def big_bytes():
    return Response(bytes(range(256)) * 400, media_type="application/octet-stream")


@app.post("/upload-count")
async def upload_count(request: Request):
    size = chunks = biggest = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks += 1
        biggest = max(biggest, len(chunk))
    return {"size": size, "chunks": chunks, "biggest": biggest}


@app.post("/early")
async def early():
    return {"ignored": "body"}


@app.post("/bulk")
async def bulk(items: list[Item]):
    return {"count": len(items), "total": sum(i.price for i in items)}
