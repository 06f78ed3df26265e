"""The bytes every level stores for one entry: a small header, the entry's tags, the value.

The header carries what a level cannot tell by itself, so that any level can serve a hit and
fill the levels above with the right remaining lifetime: when the value stops being fresh
(stale-while-revalidate), when it is gone for good, how long it took to compute (early
refresh weighs that), and its tags (a memory level filled from Redis must still be
invalidated by tag).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

_HEADER = struct.Struct("<BdddH")  # version, fresh_until, expires (0: never), compute seconds, tags length
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Envelope:
    payload: bytes
    fresh_until: float
    expires: float  # wall-clock seconds; 0.0 for never
    compute: float
    tags: tuple[str, ...]

    @classmethod
    def make(cls, payload: bytes, ttl: float | None, stale: float, compute: float, tags: tuple[str, ...]) -> Envelope:
        now = time.time()
        fresh = now + ttl if ttl is not None else float("inf")
        expires = now + ttl + stale if ttl is not None else 0.0
        return cls(payload, fresh, expires, compute, tags)

    def pack(self) -> bytes:
        tags = "\x1f".join(self.tags).encode()
        fresh = self.fresh_until if self.fresh_until != float("inf") else 0.0
        return _HEADER.pack(_VERSION, fresh, self.expires, self.compute, len(tags)) + tags + self.payload

    @classmethod
    def unpack(cls, data: bytes) -> Envelope | None:
        """None for bytes that are not an envelope of this version (written by something else)."""
        if len(data) < _HEADER.size or data[0] != _VERSION:
            return None
        _, fresh, expires, compute, n = _HEADER.unpack_from(data)
        start = _HEADER.size
        tags = tuple(data[start : start + n].decode().split("\x1f")) if n else ()
        return cls(data[start + n :], fresh or float("inf"), expires, compute, tags)

    def remaining(self, now: float) -> float | None:
        """Seconds until the entry is gone (None: never); <= 0 when already gone."""
        return None if self.expires == 0.0 else self.expires - now
