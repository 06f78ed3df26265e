"""Parameter models (`Annotated[Model, Query()]`, `Header()`, `Cookie()`) and their extras."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from covet import Cookie, Covet, Header, Query

app = Covet()


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    param: str


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    param: str


class Aliased(BaseModel):
    param: str = Field(alias="param_alias")


class Auth(BaseModel):
    x_user_id: str


@app.get("/query-open")
async def query_open(data: Annotated[Open, Query()]):
    return data.model_dump()


@app.get("/header-open")
async def header_open(data: Annotated[Open, Header()]):
    return data.model_dump()


@app.get("/cookie-open")
async def cookie_open(data: Annotated[Open, Cookie()]):
    return data.model_dump()


@app.get("/cookie-closed")
async def cookie_closed(data: Annotated[Closed, Cookie()]):
    return data.model_dump()


@app.get("/query-aliased")
async def query_aliased(data: Annotated[Aliased, Query()]):
    return {"param": data.param}


@app.get("/auth")
async def auth(data: Annotated[Auth, Header()]):
    return data.model_dump()


@app.get("/header-closed")
async def header_closed(data: Annotated[Closed, Header()]):
    return data.model_dump()
