"""Whether an annotation declares several uploads (`list[UploadFile]`) or several raw file
contents (`list[bytes]`): the two shapes a `File()` parameter can take besides a single file.

A union counts when one of its members does (`list[str] | list[UploadFile]`): such a parameter
may receive files, so it has to be read from the multipart body's file parts."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

__all__ = ["is_bytes_sequence_annotation", "is_uploadfile_sequence_annotation"]

_SEQUENCES = (list, tuple, set, frozenset)


def _sequence_items(annotation: Any) -> tuple[Any, ...] | None:
    """The item types of a sequence annotation (`list[int]` -> `(int,)`), None when it is none."""
    if get_origin(annotation) is Annotated:
        return _sequence_items(get_args(annotation)[0])
    origin = get_origin(annotation)
    if annotation in _SEQUENCES:
        return (Any,)
    if origin in _SEQUENCES:
        return tuple(arg for arg in get_args(annotation) if arg is not Ellipsis)
    return None


def _is_sequence_of(annotation: Any, item: type) -> bool:
    if get_origin(annotation) is Annotated:
        return _is_sequence_of(get_args(annotation)[0], item)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_sequence_of(arg, item) for arg in get_args(annotation))
    items = _sequence_items(annotation)
    return bool(items) and all(isinstance(arg, type) and issubclass(arg, item) for arg in items)  # type: ignore[arg-type]


def is_uploadfile_sequence_annotation(annotation: Any) -> bool:
    """`list[UploadFile]`, `set[UploadFile] | None`, `list[str] | list[UploadFile]`..."""
    from covet.datastructures import UploadFile

    return _is_sequence_of(annotation, UploadFile)


def is_bytes_sequence_annotation(annotation: Any) -> bool:
    """`list[bytes]`, `list[bytes] | None`, `list[str] | list[bytes]`..."""
    return _is_sequence_of(annotation, bytes)
