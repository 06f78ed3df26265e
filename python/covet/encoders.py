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
import ipaddress
import re
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import PurePath
from types import GeneratorType
from typing import Any

import pydantic
import pydantic_core
from pydantic_core import PydanticUndefined

__all__ = ["json_default", "jsonable_encoder"]

try:
    from pydantic import BaseModel
except ImportError:  # pragma: no cover - pydantic is a dependency; kept optional here
    BaseModel = None  # type: ignore[assignment,misc]


# Exact types answered before the isinstance chain (pydantic's ABC check first costs most):
# datetimes and UUIDs are the common non-JSON values of a response.
_ISOFORMAT_TYPES = frozenset({datetime.datetime, datetime.date, datetime.time})


def json_default(obj: Any) -> Any:
    tp = type(obj)
    if tp in _ISOFORMAT_TYPES:
        return obj.isoformat()
    if tp is uuid.UUID:
        return str(obj)
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


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Turns a value into plain JSON types (dicts, lists, str, numbers, None), as FastAPI's does:
    for code that stores or compares what a response would hold. `include`/`exclude` pick the
    keys of the outermost object; `custom_encoder` maps a type (or a base class) to a function.
    Floats are kept as they are (NaN and infinities included), so the result is Python data, not
    necessarily valid JSON text."""
    options = _Options(by_alias, exclude_unset, exclude_defaults, exclude_none, custom_encoder or {}, sqlalchemy_safe)
    return _encode(obj, _key_set(include), _key_set(exclude), options)


IncEx = set[Any] | dict[Any, Any] | list[Any] | frozenset[Any]


@dataclasses.dataclass(frozen=True)
class _Options:
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    custom: dict[Any, Callable[[Any], Any]]
    sqlalchemy_safe: bool


def _key_set(keys: Any) -> Any:
    return set(keys) if isinstance(keys, (list, tuple, frozenset)) else keys


def _encode(obj: Any, include: Any, exclude: Any, o: _Options) -> Any:
    if o.custom:
        encoder = o.custom.get(type(obj)) or next((f for t, f in o.custom.items() if isinstance(obj, t)), None)
        if encoder is not None:
            return encoder(obj)
    if obj is None or isinstance(obj, (str, int, float)) and not isinstance(obj, enum.Enum):
        return obj
    if BaseModel is not None and isinstance(obj, BaseModel):
        dumped = obj.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=o.by_alias,
            exclude_unset=o.exclude_unset,
            exclude_defaults=o.exclude_defaults,
            exclude_none=o.exclude_none,
        )
        return _encode(dumped, None, None, o)
    if _is_pydantic_v1(obj):
        from covet.exceptions import PydanticV1NotSupportedError

        raise PydanticV1NotSupportedError(f"{type(obj).__name__} is a pydantic.v1 model: use a pydantic 2 model")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _encode(dataclasses.asdict(obj), include, exclude, o)
    if isinstance(obj, enum.Enum):
        return _encode(obj.value, None, None, o)
    if isinstance(obj, PurePath):
        return str(obj)
    if obj is PydanticUndefined:
        return None
    if isinstance(obj, Mapping):
        return _encode_mapping(obj, include, exclude, o)
    if isinstance(obj, (list, tuple, set, frozenset, deque, GeneratorType)):
        return [_encode(item, None, None, o) for item in obj]
    if isinstance(obj, _AS_STR) or type(obj).__name__ == "Color" and hasattr(obj, "as_named"):
        return str(obj)
    if isinstance(obj, re.Pattern):
        return obj.pattern
    if isinstance(obj, _SCALARS):
        return json_default(obj)
    return _encode(_attributes(obj), include, exclude, o)


def _encode_mapping(obj: Mapping[Any, Any], include: Any, exclude: Any, o: _Options) -> dict[Any, Any]:
    keys = set(obj.keys())
    if include is not None:
        keys &= set(include)
    if exclude is not None:
        keys -= set(exclude)
    out = {}
    for key, value in obj.items():
        if key not in keys or (o.sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa")):
            continue
        if value is None and o.exclude_none:
            continue
        out[_encode(key, None, None, o)] = _encode(value, None, None, o)
    return out


def _attributes(obj: Any) -> dict[Any, Any]:
    """An arbitrary object: what `dict(obj)` gives (key/value pairs), else its attributes."""
    errors: list[Exception] = []
    try:
        return dict(obj)
    except Exception as exc:
        errors.append(exc)
    try:
        return dict(vars(obj))
    except Exception as exc:
        errors.append(exc)
        raise ValueError(f"Cannot encode {type(obj).__name__} as JSON: {errors}") from None


def _is_pydantic_v1(obj: Any) -> bool:
    return any(c.__module__.startswith("pydantic.v1") and c.__name__ == "BaseModel" for c in type(obj).__mro__)


_SCALARS = (datetime.date, datetime.time, datetime.timedelta, uuid.UUID, decimal.Decimal, bytes, bytearray)
_AS_STR: tuple[type, ...] = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    pydantic.AnyUrl,
    pydantic.NameEmail,
    pydantic.SecretStr,
    pydantic.SecretBytes,
    pydantic_core.Url,
)
