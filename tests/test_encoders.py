"""jsonable_encoder with FastAPI's options: include/exclude, exclude_unset/defaults/none,
custom encoders, plain objects and dataclasses, and a clear error for what cannot be encoded."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import math
import uuid
from collections import deque
from typing import Any

import pytest
from pydantic import BaseModel, Field
from pydantic_core import PydanticUndefined

from covet.encoders import jsonable_encoder
from covet.exceptions import PydanticV1NotSupportedError


class Owner:
    def __init__(self, name: str) -> None:
        self.name = name


class Pet:
    def __init__(self, owner: Owner, name: str) -> None:
        self.owner = owner
        self.name = name


@dataclasses.dataclass
class Item:
    name: str
    count: int


class Defaults(BaseModel):
    foo: str
    bar: str = "bar"
    bla: str | None = "bla"
    alias_me: str = Field("x", alias="aliasMe")


class Opaque:
    __slots__ = ()


def test_include_and_exclude_pick_keys_of_every_kind_of_object() -> None:
    pet = Pet(Owner("Foo"), "Firulais")
    for value in ({"name": "Firulais", "owner": {"name": "Foo"}}, pet):
        assert jsonable_encoder(value) == {"name": "Firulais", "owner": {"name": "Foo"}}
        assert jsonable_encoder(value, include={"name"}) == {"name": "Firulais"}
        assert jsonable_encoder(value, exclude=["owner"]) == {"name": "Firulais"}
        assert jsonable_encoder(value, include=set()) == {}
    assert jsonable_encoder(Item("foo", 3), exclude={"count"}) == {"name": "foo"}


def test_model_options() -> None:
    model = Defaults(foo="foo", bar="bar")
    assert jsonable_encoder(model) == {"foo": "foo", "bar": "bar", "bla": "bla", "aliasMe": "x"}
    assert jsonable_encoder(model, by_alias=False)["alias_me"] == "x"
    assert jsonable_encoder(model, exclude_unset=True) == {"foo": "foo", "bar": "bar"}
    assert jsonable_encoder([{"k": model}], exclude_defaults=True) == [{"k": {"foo": "foo"}}]
    assert jsonable_encoder(Defaults(foo="f", bla=None), exclude_none=True) == {
        "foo": "f",
        "bar": "bar",
        "aliasMe": "x",
    }


def test_custom_encoder_by_type_and_base_class() -> None:
    class Stamp(datetime.datetime):
        pass

    when = Stamp(2024, 5, 6, 7, 8, 9)
    assert jsonable_encoder({"t": when}, custom_encoder={Stamp: lambda d: d.strftime("%H:%M")}) == {"t": "07:08"}
    assert jsonable_encoder({"t": when}, custom_encoder={datetime.datetime: lambda d: d.year}) == {"t": 2024}
    assert jsonable_encoder({"t": when}) == {"t": "2024-05-06T07:08:09"}


def test_scalars() -> None:
    uid = uuid.UUID(int=1)
    value: Any = {
        "dec": decimal.Decimal("2"),
        "decf": decimal.Decimal("1.5"),
        "inf": math.inf,
        "uid": uid,
        "missing": PydanticUndefined,
        "queue": deque([Item("a", 1)]),
        "gen": (i for i in range(2)),
    }
    assert jsonable_encoder(value) == {
        "dec": 2,
        "decf": 1.5,
        "inf": math.inf,
        "uid": str(uid),
        "missing": None,
        "queue": [{"name": "a", "count": 1}],
        "gen": [0, 1],
    }


def test_what_cannot_be_encoded_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Cannot encode Opaque"):
        jsonable_encoder(Opaque())


def test_pydantic_v1_model_is_refused() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic import v1

    class Old(v1.BaseModel):
        name: str

    with pytest.raises(PydanticV1NotSupportedError):
        jsonable_encoder(Old(name="x"))
