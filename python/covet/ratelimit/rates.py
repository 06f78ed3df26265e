"""Rates written the way people say them: "100/minute", "5 per second", "1000/2 hours"."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Rate", "parse_rate"]

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    """`limit` requests per `period` seconds, `burst` of them at once (default: the limit)."""

    limit: int
    period: float
    burst: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.burst < 1 or not (self.period > 0 and math.isfinite(self.period)):
            raise ValueError(f"A rate needs a limit and burst >= 1 and a positive period, not {self}")

    @property
    def policy(self) -> str:
        """The `RateLimit-Policy` value (IETF draft): `100;w=60`, with `;burst=` when set apart."""
        text = f"{self.limit};w={_seconds(self.period)}"
        return text if self.burst == self.limit else f"{text};burst={self.burst}"

    def describe(self) -> str:
        """'100 per minute', '5 per 2 seconds': for error messages."""
        for name, seconds in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
            count = self.period / seconds
            if count == int(count) and count >= 1:
                unit = name if count == 1 else f"{int(count)} {name}s"
                return f"{self.limit} per {unit}"
        return f"{self.limit} per {self.period:g} seconds"

    @property
    def key(self) -> str:
        """A stable name for this rate inside storage keys: two rates never share state."""
        return f"{self.limit}/{self.period:g}/{self.burst}"


def parse_rate(rate: str | Rate, burst: int | None = None) -> Rate:
    """Accepts "N/unit", "N per unit" or "N/M units" (units: second, minute, hour, day, or
    s, m, h, d); a `Rate` is returned as is unless `burst` overrides its burst."""
    if isinstance(rate, Rate):
        return rate if burst is None else Rate(rate.limit, rate.period, burst)
    match = _RATE.match(rate)
    unit = _unit(match.group(3).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"Cannot read the rate {rate!r}: write it as '100/minute', '5 per second' or '1000/2 hours'")
    limit = int(match.group(1))
    period = float(match.group(2) or 1) * unit
    return Rate(limit, period, limit if burst is None else burst)


def _unit(name: str) -> int | None:
    if name in _UNITS:
        return _UNITS[name]
    return _UNITS.get(name[:-1]) if len(name) > 2 and name.endswith("s") else None


def _seconds(period: float) -> str:
    return str(int(period)) if period == int(period) else f"{period:g}"
