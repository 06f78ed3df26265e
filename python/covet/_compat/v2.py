"""A pydantic field with its name (`ModelField`), and putting a sequence value back into the
collection type its field declares (`serialize_sequence_value`).

Code written against FastAPI's private `fastapi._compat.v2` builds these to describe one
request value outside a model; covet's own analysed form of a parameter is
`covet.dependencies.models.ParamField`."""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

__all__ = ["ModelField", "serialize_sequence_value"]


@dataclass(eq=False)
class ModelField:
    """A field of a (possibly implicit) model: its name and pydantic `FieldInfo`."""

    name: str
    field_info: FieldInfo
    mode: Literal["validation", "serialization"] = "validation"

    @property
    def alias(self) -> str:
        return self.field_info.alias or self.name

    @property
    def required(self) -> bool:
        return self.field_info.is_required()

    @property
    def default(self) -> Any:
        """The default value; `Undefined` (pydantic's marker) for a required field."""
        return self.field_info.get_default(call_default_factory=True)

    @property
    def type_(self) -> Any:
        return self.field_info.annotation


def _collection_type(annotation: Any) -> type | None:
    """The concrete collection a sequence annotation names, looking through `Annotated` and
    through unions (`list[str] | None`, `Union[None, set[int]]`): the first sequence member."""
    if get_origin(annotation) is Annotated:
        return _collection_type(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _collection_type(arg)
            if found is not None:
                return found
        return None
    origin = get_origin(annotation) or annotation
    if isinstance(origin, type) and issubclass(origin, (list, tuple, set, frozenset)):
        return origin
    return None


def serialize_sequence_value(*, field: ModelField, value: Sequence[Any]) -> Sequence[Any]:
    """`value` as the collection type `field` declares (a set for `set[str]`, a list for
    `list[str] | None`); a list when the declaration names no concrete collection."""
    collection = _collection_type(field.field_info.annotation) or list
    return collection(value)  # type: ignore[no-any-return]
