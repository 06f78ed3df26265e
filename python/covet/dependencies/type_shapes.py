"""What a parameter's annotation says about its shape (optional, repeated, item type): asked
by the analysis of a signature and by the form reader, in a leaf module they share."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import Json

__all__ = ["is_sequence", "item_type", "strip_optional"]

_SEQUENCES = (list, tuple, set, frozenset)


def strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def is_sequence(tp: Any) -> bool:
    tp = strip_optional(tp)
    if get_origin(tp) is Annotated:  # `Annotated[set[str], Field(max_length=3)] | None`
        base, *metadata = get_args(tp)
        # Json[list[str]] is one JSON-encoded value, not a repeated parameter.
        return not any(isinstance(m, Json) for m in metadata) and is_sequence(base)
    return tp in _SEQUENCES or get_origin(tp) in _SEQUENCES


def item_type(tp: Any) -> Any:
    args = get_args(strip_optional(tp))
    return args[0] if args else Any
