"""An app for `covet routes` and `covet shell` (tests/test_cli_commands.py): routers with
dependencies at three levels, a WebSocket route, a mounted sub-application, and a lifespan
that puts a value in `app.state` and says when it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from covet import APIRouter, Covet, Depends, Header, WebSocket


def current_user(x_user: str = Header("anonymous")) -> str:
    return x_user


def admin_only(user: str = Depends(current_user)) -> str:
    return user


def audit() -> None:
    return None


@asynccontextmanager
async def lifespan(app: Covet) -> AsyncIterator[dict[str, object]]:
    yield {"greeting": "hello from lifespan"}
    print("lifespan ended", flush=True)


app = Covet(lifespan=lifespan, docs_url=None, redoc_url=None)
admin = APIRouter(prefix="/admin", dependencies=[Depends(audit)])


@app.get("/users/{user_id}", name="read_user")
def read_user(user_id: int, user: str = Depends(current_user)) -> dict[str, object]:
    return {"id": user_id, "by": user}


@admin.delete("/users/{user_id}")
def delete_user(user_id: int, user: str = Depends(admin_only)) -> None:
    return None


@app.websocket("/ws")
async def feed(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


app.include_router(admin)

sub = Covet(openapi_url=None)


@sub.get("/ping")
def ping() -> str:
    return "pong"


app.mount("/sub", sub, name="sub")
