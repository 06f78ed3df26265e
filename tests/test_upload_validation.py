"""`UploadFile` as a pydantic type: an upload is accepted as it is, anything else is a value
error worded as FastAPI's; its validator takes pydantic's (value, info) call as well as the
value alone, so code calling it directly the way pydantic does works."""

from __future__ import annotations

import io

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from covet.datastructures import UploadFile


def test_an_upload_validates_as_itself() -> None:
    upload = UploadFile(io.BytesIO(b"x"), filename="a.txt")
    assert TypeAdapter(UploadFile).validate_python(upload) is upload
    assert UploadFile._validate(upload, {}) is upload


def test_anything_else_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Expected UploadFile, received: <class 'str'>"):
        UploadFile._validate("not an upload", {})

    class Attachment(BaseModel):
        file: UploadFile

    with pytest.raises(ValidationError) as caught:
        Attachment(file="text")  # type: ignore[arg-type]
    [error] = caught.value.errors()
    assert error["type"] == "value_error"
    assert error["loc"] == ("file",)
