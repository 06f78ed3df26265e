"""`covet._compat`: the names code written against FastAPI's private `fastapi._compat` imports
(issue 16): pydantic's `Undefined`, the upload/bytes sequence predicates, and `v2.ModelField`
with `serialize_sequence_value`."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from covet._compat import Undefined, is_bytes_sequence_annotation, is_uploadfile_sequence_annotation, v2
from covet.datastructures import UploadFile


def test_undefined_is_pydantics_marker() -> None:
    assert Undefined is PydanticUndefined


def test_upload_sequences() -> None:
    assert is_uploadfile_sequence_annotation(list[UploadFile])
    assert is_uploadfile_sequence_annotation(set[UploadFile] | None)
    assert is_uploadfile_sequence_annotation(list[str] | list[UploadFile])  # one member is enough
    assert is_uploadfile_sequence_annotation(Annotated[list[UploadFile], Field(max_length=3)])
    assert not is_uploadfile_sequence_annotation(UploadFile)
    assert not is_uploadfile_sequence_annotation(list[str])
    assert not is_uploadfile_sequence_annotation(list)


def test_bytes_sequences() -> None:
    assert is_bytes_sequence_annotation(list[bytes])
    assert is_bytes_sequence_annotation(tuple[bytes, ...])
    assert is_bytes_sequence_annotation(list[str] | list[bytes])
    assert not is_bytes_sequence_annotation(bytes)
    assert not is_bytes_sequence_annotation(list[int] | None)


def test_model_field_defaults() -> None:
    required = v2.ModelField(name="foo", field_info=FieldInfo(annotation=str))
    assert required.default is Undefined
    assert required.required
    assert required.alias == "foo"
    optional = v2.ModelField(name="foo", field_info=FieldInfo(annotation=int, default=3, alias="f"))
    assert (optional.default, optional.required, optional.alias, optional.type_) == (3, False, "f", int)


def test_serialize_sequence_value_uses_the_declared_collection() -> None:
    def serialize(annotation: Any, value: list[Any]) -> Any:
        field = v2.ModelField(name="items", field_info=FieldInfo(annotation=annotation))
        return v2.serialize_sequence_value(field=field, value=value)

    assert serialize(list[str] | None, ["a", "b"]) == ["a", "b"]
    assert serialize(Union[None, list[str]], ["x"]) == ["x"]  # noqa: UP007 - None first on purpose
    assert serialize(set[int], [1, 1, 2]) == {1, 2}
    assert serialize(tuple[int, ...], [1, 2]) == (1, 2)
    assert serialize(Annotated[frozenset[str], Field()], ["a"]) == frozenset({"a"})
    assert serialize(Any, ["a"]) == ["a"]  # no collection declared: a list
