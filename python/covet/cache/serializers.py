"""How a cache turns values into bytes: chosen per cache, because a cache shared with another
service (or a response body) must stay readable there, while one of your own may hold any
Python object.

* `JSON` (the default): the engine's encoder (the same as responses: datetime, UUID, Decimal,
  dataclasses, pydantic models) and the standard library's decoder. Values come back as plain
  JSON data (a model comes back as a dict).
* `Pickle`: any picklable object, as it was. Opt-in: unpickling runs code, so a cache whose
  backend others can write to must never use it.
* `Raw`: bytes in, bytes out, for values you encode yourself.
"""

from __future__ import annotations

import json
import pickle
from typing import Any, Protocol

from covet._engine import dumps as _engine_dumps

__all__ = ["JSON", "Pickle", "Raw", "Serializer"]


class Serializer(Protocol):
    def dumps(self, value: Any) -> bytes: ...
    def loads(self, data: bytes) -> Any: ...


class JSON:
    """JSON through the engine's encoder."""

    def dumps(self, value: Any) -> bytes:
        return _engine_dumps(value)

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


class Pickle:
    """Any picklable value; only for a backend nobody else can write to."""

    def __init__(self, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        self.protocol = protocol

    def dumps(self, value: Any) -> bytes:
        return pickle.dumps(value, self.protocol)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)  # noqa: S301 (opt-in, documented)


class Raw:
    """Bytes as they are."""

    def dumps(self, value: Any) -> bytes:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"a Raw cache stores bytes, not {type(value).__name__}")
        return bytes(value)

    def loads(self, data: bytes) -> Any:
        return data
