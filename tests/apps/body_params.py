"""Handlers taking JSON bodies, forms and files the ways FastAPI apps declare them (aliases,
form models, unions, `Json[...]`, media types), served by tests/test_body_aliases.py and
tests/test_form_models.py through TestClient, `covet run` and uvicorn."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Discriminator, Field, Json, Tag

from covet import Body, Covet, Depends, File, Form
from covet.datastructures import UploadFile

app = Covet()


# --- aliases -----------------------------------------------------------------------------------


@app.post("/body/validation-alias")
def body_validation_alias(p: Annotated[str, Body(embed=True, alias="p_alias", validation_alias="p_val")]) -> Any:
    return {"p": p}


@app.post("/form/validation-alias")
def form_validation_alias(p: Annotated[list[str], Form(validation_alias="p_val")]) -> Any:
    return {"p": p}


@app.post("/file/validation-alias")
async def file_validation_alias(p: Annotated[bytes, File(alias="p_alias", validation_alias="p_val")]) -> Any:
    return {"size": len(p)}


@app.post("/body/choices")
def body_choices(
    p: Annotated[str, Body(validation_alias=AliasChoices("p1", "p2"))],
    q: Annotated[int, Body(validation_alias=AliasPath("ignored", 0))],
) -> Any:
    return {"p": p, "q": q}


@app.post("/form/choices")
async def form_choices(
    p: Annotated[list[str], Form(validation_alias=AliasChoices("p1", "p2"))],
    f: Annotated[bytes | None, File(validation_alias=AliasChoices("f1", "f2"))] = None,
) -> Any:
    return {"p": p, "f": f}


# --- `x: T = Body()` and Annotated metadata -----------------------------------------------------


class Shop(BaseModel):
    name: str


@app.post("/shops")
def create_shop(
    shop: Shop = Body(media_type="application/vnd.api+json"),
    tags: list[str] = Body(default=[], media_type="application/vnd.api+json"),
) -> Any:
    return {"shop": shop, "tags": tags}


class Cat(BaseModel):
    pet_type: str = "cat"
    meows: int


class Dog(BaseModel):
    pet_type: str = "dog"
    barks: float


def _pet_type(value: Any) -> str:
    return value.get("pet_type", "") if isinstance(value, dict) else getattr(value, "pet_type", "")


Pet = Annotated[Annotated[Cat, Tag("cat")] | Annotated[Dog, Tag("dog")], Discriminator(_pet_type)]


@app.post("/pet")
def pet(pet: Annotated[Pet, Body()]) -> Any:
    return {"kind": type(pet).__name__, "pet": pet}


class FirstItem(BaseModel):
    value: Literal["first"]
    price: int


class OtherItem(BaseModel):
    value: Literal["other"]
    price: float


# pydantic's own Field() (no Body()): a union of models is still the body, discriminated by `value`.
TaggedItem = Annotated[
    Annotated[FirstItem, Tag("first")] | Annotated[OtherItem, Tag("other")], Field(discriminator="value")
]


@app.post("/items/discriminated")
def discriminated_item(item: TaggedItem, q: Annotated[str, Field(description="Query string")]) -> Any:
    return {"kind": type(item).__name__, "item": item, "q": q}


@app.post("/form/json")
def form_json(items: Annotated[Json[list[str]], Form()]) -> Any:
    return items


# --- forms -------------------------------------------------------------------------------------


class Profile(BaseModel):
    username: str
    tags: list[str] = ["a"]
    alias_with: str = Field(alias="with", default="nothing")


@app.post("/form/model")
def form_model(profile: Annotated[Profile, Form()]) -> Any:
    return profile


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


@app.post("/form/strict")
def form_strict(data: Annotated[Strict, Form()]) -> Any:
    return data


class UserForm(BaseModel):
    name: str
    email: str


class CompanyForm(BaseModel):
    company_name: str
    industry: str


@app.post("/form/union")
def form_union(data: Annotated[UserForm | CompanyForm, Form()]) -> Any:
    return {"kind": type(data).__name__, "data": data}


@app.post("/form/optional-model")
def form_optional_model(data: Annotated[UserForm | None, Form()] = None) -> Any:
    return {"data": data}


@app.post("/form/defaults")
def form_defaults(
    age: Annotated[int | None, Form()] = None,
    file: Annotated[bytes | None, File()] = None,
) -> Any:
    return {"age": age, "file": file}


@app.post("/form/required")
def form_required(name: Annotated[str, Form()]) -> Any:
    return {"name": name}


# --- error bodies --------------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float


@app.post("/errors/single")
def errors_single(item: Item) -> Any:
    return item


@app.post("/errors/list")
def errors_list(items: list[Item]) -> Any:
    return items


@app.post("/errors/embedded")
def errors_embedded(item: Item, n: Annotated[int, Body()] = 0) -> Any:
    return {"item": item, "n": n}


@app.post("/errors/upload")
async def errors_upload(f: UploadFile) -> Any:
    return {"name": f.filename}


@app.post("/form/model-and-field")
def form_model_and_field(profile: Annotated[Profile, Form()], note: Annotated[str, Form()]) -> Any:
    return {"profile": profile, "note": note}


def _token(token: Annotated[str, Body()]) -> str:
    return token


@app.post("/body/with-dependency")
def body_with_dependency(item: Item, token: Annotated[str, Depends(_token)]) -> Any:
    return {"item": item, "token": token}


@app.post("/body/optional-model")
def body_optional_model(item: Annotated[Item | None, Body(embed=True)] = None) -> Any:
    return {"item": item}


@app.post("/form/declared-multipart")
def form_declared_multipart(
    x: Annotated[str, Form(media_type="multipart/form-data")], y: Annotated[str, Form(media_type="multipart/form-data")]
) -> Any:
    return {"x": x, "y": y}
