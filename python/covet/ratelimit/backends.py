"""Where rate-limit state lives: the `Backend` interface and the in-process `MemoryBackend`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from covet import _engine
from covet.ratelimit.rates import Rate

__all__ = ["Backend", "BackendUnavailable", "Decision", "MemoryBackend"]


@dataclass(frozen=True)
class Decision:
    """The answer to one check; times in seconds."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float


class BackendUnavailable(Exception):
    """The backend could not answer (Redis down or frozen); the limiter's `fail_open`
    setting decides what the request gets. `logged`: the backend has already warned about
    this outage (covet.redis does, once per outage), so the limiter only notes its choice."""

    def __init__(self, message: str, *, logged: bool = False) -> None:
        super().__init__(message)
        self.logged = logged


class Backend(Protocol):
    """Counts a request of `cost` against `key` under `rate`, atomically."""

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision: ...


class MemoryBackend:
    """GCRA in the engine (Rust), per process: the default, with nothing to run.

    Each worker process has its own counts, so with `--workers N` a client may get up to N
    times the limit; use `RedisBackend` to share one limit between processes and machines.
    Memory is bounded by `max_keys` per rate (see docs/ratelimit.md for what is evicted).
    `clock` (monotonic seconds) is injectable so tests can move time instead of sleeping.
    """

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.clock = clock
        self._limiters: dict[Rate, _engine.RateLimiter] = {}

    def check(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """The synchronous check (it never waits on I/O)."""
        limiter = self._limiters.get(rate)
        if limiter is None:
            limiter = _engine.RateLimiter(rate.limit, rate.period, rate.burst, self.max_keys)
            self._limiters[rate] = limiter
        return Decision(*limiter.check(key.encode(), cost, self.clock()))

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        return self.check(key, rate, cost)
