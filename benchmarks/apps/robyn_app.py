"""Robyn app: the same endpoints with Robyn's routing, request object and responses.

Robyn runs its own Rust server, so this module starts it:
`ROBYN_PORT=8107 python -m benchmarks.apps.robyn_app --processes 1 --workers 1
--log-level WARN --disable-openapi` (Robyn reads those options from the command line).
"""

from typing import Any

from pydantic import BaseModel
from robyn import Headers, Request, Response, Robyn

from benchmarks.apps import common

db: dict[str, Any] = {}
rng = common.make_rng()
template = common.fortunes_template()

app = Robyn(__file__)

PLAIN = Headers({"Content-Type": "text/plain; charset=utf-8"})
HTML = Headers({"Content-Type": "text/html; charset=utf-8"})


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


async def open_pool() -> None:
    db["pool"] = await common.create_pool()


async def close_pool() -> None:
    await common.close_pool(db.pop("pool"))


app.startup_handler(open_pool)
app.shutdown_handler(close_pool)


def _count(request: Request) -> int:
    try:
        return common.clamp_queries(int(request.query_params.get("n", "1")))
    except ValueError:
        return 1


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> Response:
    return Response(status_code=200, headers=PLAIN, body="Hello, World!")


@app.get("/users/:uid")
async def user(request: Request) -> dict[str, int | str | None]:
    return {"uid": int(request.path_params["uid"]), "q": request.query_params.get("q", None)}


@app.post("/items/:item_id")
async def create_item(request: Request, item: Item) -> dict[str, object]:
    return {"id": int(request.path_params["item_id"]), **item.model_dump()}


@app.get("/large")
async def large() -> list[dict[str, Any]]:
    return common.LARGE


@app.get("/db")
async def single_query() -> dict[str, int]:
    return await common.random_world(db["pool"], rng)


@app.get("/queries")
async def queries(request: Request) -> list[dict[str, int]]:
    return await common.random_worlds(db["pool"], rng, _count(request))


@app.get("/fortunes")
async def fortunes() -> Response:
    rows = await common.fortunes(db["pool"])
    return Response(status_code=200, headers=HTML, body=template.render(fortunes=rows))


@app.get("/updates")
async def updates(request: Request) -> list[dict[str, int]]:
    return await common.update_worlds(db["pool"], rng, _count(request))


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=8107, _check_port=False)
