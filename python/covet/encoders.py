"""How values that are not plain JSON types become JSON.

The engine's Rust encoder handles dict, list, tuple, str, int, float, bool and None itself and
calls `json_default` for anything else: it returns a plain value to encode, or `bytes` holding
finished JSON (a pydantic model, serialized by pydantic-core).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from covet._engine import dumps

__all__ = ["json_default", "jsonable_encoder"]

try:
    from pydantic import BaseModel
except ImportError:  # pragma: no cover - pydantic is a dependency; kept optional here
    BaseModel = None  # type: ignore[assignment,misc]


def json_default(obj: Any) -> Any:
    if BaseModel is not None and isinstance(obj, BaseModel):
        return obj.__pydantic_serializer__.to_json(obj, by_alias=True)  # as FastAPI encodes a model
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        exponent = obj.as_tuple().exponent
        return int(obj) if isinstance(exponent, int) and exponent >= 0 else float(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode()
    if isinstance(obj, PurePath):
        return str(obj)
    if hasattr(obj, "__iter__") and not isinstance(obj, (str, bytes)):
        return list(obj)
    if hasattr(obj, "__dict__"):
        # A plain object (e.g. a class dependency such as OAuth2PasswordRequestForm returned
        # as is) is encoded by its attributes, as FastAPI's encoder does.
        return vars(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def jsonable_encoder(obj: Any) -> Any:
    """Turns a value into plain JSON types (dicts, lists, str, numbers...), as FastAPI's does."""
    return json.loads(dumps(obj, json_default))
