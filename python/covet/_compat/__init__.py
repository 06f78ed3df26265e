"""Names some FastAPI code imports from FastAPI's private `fastapi._compat`, under that module
name, so that it runs on covet unchanged: pydantic's `Undefined` marker and the upload/bytes
sequence predicates (`shared`), and a named-field wrapper (`v2.ModelField`).

FastAPI's `_compat` is its bridge between pydantic versions; covet supports pydantic 2 only,
so nothing of that bridge is here, only what code written against it reaches for."""

from pydantic_core import PydanticUndefined as Undefined

from covet._compat.shared import is_bytes_sequence_annotation, is_uploadfile_sequence_annotation

__all__ = ["Undefined", "is_bytes_sequence_annotation", "is_uploadfile_sequence_annotation"]
