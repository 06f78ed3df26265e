"""BlackSheep app: the same endpoints with BlackSheep's routing, binders and responses."""

from typing import Any

from blacksheep import Application, FromJSON, Request, Response, html, json, text
from blacksheep.exceptions import NotFound
from pydantic import BaseModel

from benchmarks.apps import common

db: dict[str, Any] = {}
rng = common.make_rng()
template = common.fortunes_template()

app = Application()
get = app.router.get
post = app.router.post


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.lifespan
async def database_pool() -> Any:
    """Open the database pool at startup, close it at shutdown."""
    db["pool"] = await common.create_pool()
    yield
    await common.close_pool(db.pop("pool"))


async def not_found(_app: Application, _request: Request, _exc: Exception) -> Response:
    """FastAPI's error shape, {"detail": "Not Found"}, which the other apps answer."""
    return json({"detail": "Not Found"}, status=404)


app.exceptions_handlers[NotFound] = not_found


@get("/json")
async def json_endpoint() -> Response:
    return json({"message": "Hello, World!"})


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, World!")


@get("/users/{int:uid}")
async def user(uid: int, q: str | None = None) -> Response:
    return json({"uid": uid, "q": q})


@post("/items/{int:item_id}")
async def create_item(item_id: int, item: FromJSON[Item]) -> Response:
    return json({"id": item_id, **item.value.model_dump()})


@get("/large")
async def large() -> Response:
    return json(common.LARGE)


@get("/db")
async def single_query() -> Response:
    return json(await common.random_world(db["pool"], rng))


@get("/queries")
async def queries(n: int = 1) -> Response:
    return json(await common.random_worlds(db["pool"], rng, common.clamp_queries(n)))


@get("/fortunes")
async def fortunes() -> Response:
    rows = await common.fortunes(db["pool"])
    return html(template.render(fortunes=rows))


@get("/updates")
async def updates(n: int = 1) -> Response:
    return json(await common.update_worlds(db["pool"], rng, common.clamp_queries(n)))
