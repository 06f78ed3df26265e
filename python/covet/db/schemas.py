"""Pydantic models and ORM objects, each way: a response model from a row, a row from an input
model, and a PATCH applied with only the fields the client sent."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect

__all__ = ["to_schema", "to_orm", "apply_patch"]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def to_schema(obj: Any, schema: type[M]) -> M:
    """`schema` filled from `obj`'s attributes (the model needs no `from_attributes` config).
    A handler can also just return the row and declare `-> Schema`: covet reads attributes."""
    return schema.model_validate(obj, from_attributes=True)


def to_orm(data: BaseModel, model: type[R], **extra: Any) -> R:
    """A new `model` row from an input model's fields, plus `extra` (an owner id, say).
    A field that is not a mapped attribute of `model` is a bug in the schemas: TypeError."""
    values = {**data.model_dump(), **extra}
    _check_attributes(model, values)
    return model(**values)


def apply_patch(obj: R, data: BaseModel) -> R:
    """Sets on `obj` only the fields the client sent (`exclude_unset`): PATCH semantics, where
    an absent field stays as it is and an explicit null clears it."""
    values = data.model_dump(exclude_unset=True)
    _check_attributes(type(obj), values)
    for key, value in values.items():
        setattr(obj, key, value)
    return obj


def _check_attributes(model: type[Any], values: dict[str, Any]) -> None:
    mapped = set(sa_inspect(model).attrs.keys())
    unknown = sorted(set(values) - mapped)
    if unknown:
        raise TypeError(f"{model.__name__} has no mapped attribute(s) {unknown}: rename or exclude them in the schema")
