"""Startup checks on how a non-body parameter is declared: a type the request part cannot
carry (a path segment holding a list, a query parameter holding a model list...) is refused
when the route is registered, with a message that names the parameter, as FastAPI does."""

from __future__ import annotations

import copy
import dataclasses
import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from covet.exceptions import InvalidParameter

__all__ = ["InvalidParameter", "check_param_type", "declared_in_annotated", "plain_field_on_body_type"]

_SEQUENCES = (list, tuple, set, frozenset)


def check_param_type(name: str, source: str, annotation: Any, is_model: bool) -> None:
    """Refuses at startup what FastAPI refuses: a path parameter must be a scalar; a query
    parameter a scalar, a sequence of scalars or a parameter model."""
    if source == "path" and _is_complex(annotation):
        raise InvalidParameter(
            f"Path params must be of one of the supported types: '{name}' is {annotation!r}; "
            "a path parameter takes a single value (str, int, float, bool, UUID, an Enum...)"
        )
    if source == "query" and not is_model and _is_complex(annotation) and not _is_scalar_sequence(annotation):
        raise InvalidParameter(
            f"Query parameter '{name}' must be one of the supported types: a scalar, a list of "
            f"scalars or a pydantic model declared with Query(); it is {annotation!r}"
        )


def plain_field_on_body_type(declared: Any, annotation: Any) -> bool:
    """`Annotated[A | B, Field(discriminator="kind")]`: pydantic's own `Field()` says how to
    validate the value, not where it comes from. On a type no query parameter can carry (a
    model, a union of models...) it is read from the body, the Field kept with the type, as
    FastAPI does; covet's `Query()`/`Body()`... and scalar types keep their meaning."""
    from pydantic.fields import FieldInfo

    from covet.params import Param

    if not isinstance(declared, FieldInfo) or isinstance(declared, Param):
        return False
    return _is_complex(annotation) and not _is_scalar_sequence(annotation)


def _is_complex(tp: Any) -> bool:
    """A type that is not a single request value: a model, a mapping, a sequence, an upload."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _is_complex(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return any(_is_complex(arg) for arg in get_args(tp))
    return _complex_class(tp) or _complex_class(origin)


def _complex_class(tp: Any) -> bool:
    from covet.datastructures import UploadFile

    if not isinstance(tp, type):
        return False
    return issubclass(tp, (BaseModel, Mapping, UploadFile, *_SEQUENCES)) or dataclasses.is_dataclass(tp)


def _is_scalar_sequence(tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is Annotated:
        return _is_scalar_sequence(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        return any(_is_scalar_sequence(a) for a in args) and all(
            _is_scalar_sequence(a) or not _is_complex(a) for a in args
        )
    container = origin if origin is not None else tp
    is_sequence = isinstance(container, type) and issubclass(container, _SEQUENCES)
    return is_sequence and all(a is Ellipsis or not _is_complex(a) for a in get_args(tp))


def declared_in_annotated(name: str, metadata: list[Any], default: Any) -> Any:
    """The declaration an `Annotated[...]` carries, checked against the parameter's default.

    Several FieldInfos (`Annotated[int, Query(gt=2), Query(lt=10)]`) add up: the last one says
    where the value comes from, all of their constraints apply. A default belongs after `=`."""
    from pydantic.fields import FieldInfo

    from covet.params import DependsParam, Param

    infos = [item for item in metadata if isinstance(item, FieldInfo)]
    declared: Any = next((item for item in reversed(metadata) if isinstance(item, (FieldInfo, DependsParam))), None)
    if isinstance(declared, FieldInfo) and len(infos) > 1:
        declared = copy.copy(declared)
        declared.metadata = [m for info in infos for m in info.metadata]
    if isinstance(default, DependsParam):
        if isinstance(declared, DependsParam):
            raise InvalidParameter(f"Cannot specify `Depends` in `Annotated` and default value together for '{name}'")
        if declared is not None:
            raise InvalidParameter(
                "Cannot specify a FastAPI annotation in `Annotated` and `Depends` as a default value together "
                f"for '{name}'"
            )
    elif isinstance(default, FieldInfo) and declared is not None:
        raise InvalidParameter(
            f"Cannot specify FastAPI annotations in `Annotated` and default value together for '{name}'"
        )
    if isinstance(declared, Param) and declared.default is not PydanticUndefined:
        kind = type(declared).__name__.removesuffix("Param")
        raise InvalidParameter(
            f"`{kind}` default value cannot be set in `Annotated` for '{name}'. Set the default value with `=` instead."
        )
    return declared
