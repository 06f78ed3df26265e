"""The example served by `make run`: covet's quickstart app."""

from covet import Covet, HTTPException, Request
from covet.responses import PlainTextResponse, StreamingResponse

app = Covet()

USERS = {"1": "ada", "2": "grace"}


@app.get("/")
async def root() -> dict:
    return {"hello": "world"}


@app.get("/users/{user_id}")
async def user(request: Request) -> dict:
    user_id = request.path_params["user_id"]
    if user_id not in USERS:
        raise HTTPException(404, "No such user")
    return {"id": user_id, "name": USERS[user_id], "q": request.query_params.get("q")}


@app.get("/hello/{name}")
async def hello(name: str) -> PlainTextResponse:
    return PlainTextResponse(f"Hello, {name}!")


@app.get("/count")
async def count(n: int = 5) -> StreamingResponse:
    async def numbers():
        for i in range(n):
            yield f"{i}\n"

    return StreamingResponse(numbers(), media_type="text/plain")
