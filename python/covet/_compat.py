"""`Undefined`, pydantic's "no value given" marker, under the private module name FastAPI
exposes it by (some ported code and tests import it from there). Nothing else of FastAPI's
`_compat` is provided: it is FastAPI's pydantic v1/v2 bridge, which covet has no need for."""

from pydantic_core import PydanticUndefined as Undefined

__all__ = ["Undefined"]
