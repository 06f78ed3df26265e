"""Non-body parameters named by `alias` / `validation_alias`, alone and in parameter models."""

from typing import Annotated

from pydantic import AliasChoices, BaseModel, Field

from covet import Cookie, Covet, Header, Query

app = Covet()


class Filters(BaseModel):
    page_size: int = Field(validation_alias="size")
    sort_by: str = Field("id", alias="sortBy")


class Trace(BaseModel):
    trace_id: str


@app.get("/query")
async def query(
    q: Annotated[str, Query(validation_alias="q_val")],
    both: Annotated[str | None, Query(alias="both_alias", validation_alias="both_val")] = None,
    tags: Annotated[list[int] | None, Query(validation_alias="tag")] = None,
):
    return {"q": q, "both": both, "tags": tags}


@app.get("/header")
async def header(
    x_token: Annotated[str, Header(validation_alias="x_raw_token")],
    x_plain: Annotated[str | None, Header()] = None,
):
    return {"x_token": x_token, "x_plain": x_plain}


@app.get("/cookie")
async def cookie(session: Annotated[str, Cookie(validation_alias="sid")]):
    return {"session": session}


@app.get("/model")
async def model(filters: Annotated[Filters, Query()]):
    return filters.model_dump()


@app.get("/header-model")
async def header_model(trace: Annotated[Trace, Header()]):
    return trace.model_dump()


@app.get("/choices")
async def choices(
    q: Annotated[int, Query(validation_alias=AliasChoices("q", "query"))],
    h: Annotated[str | None, Header(validation_alias=AliasChoices("x_a", "x-b"))] = None,
    c: Annotated[str | None, Cookie(validation_alias=AliasChoices("c1", "c2"))] = None,
):
    return {"q": q, "h": h, "c": c}
