"""A level that fails is skipped, not fatal: one warning when its outage starts, one line when
it ends, a counter for every skipped call, and for `retry_interval` seconds after a failure
calls skip it at once instead of each waiting for a timeout; then one call at a time tries
again, so the level recovers by itself. (The Redis level gets the same from `covet.redis`.)
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger("covet.cache")


class LevelDown(Exception):
    """Raised by a level that could not answer; the cache skips it."""


class Outage:
    def __init__(self, what: str, retry_interval: float = 1.0) -> None:
        self.what = what
        self.retry_interval = retry_interval
        self.down_since: float | None = None
        self._retry_at = 0.0
        self._probing = False

    def enter(self) -> bool:
        """Whether a call may go to the backend now (a probe when down); raises LevelDown if not."""
        if self.down_since is None:
            return False
        if self._probing or time.monotonic() < self._retry_at:
            raise LevelDown(self.what)
        self._probing = True
        return True

    def leave(self, probe: bool) -> None:
        if probe:
            self._probing = False

    def failed(self, exc: BaseException) -> LevelDown:
        now = time.monotonic()
        self._retry_at = now + self.retry_interval
        if self.down_since is None:
            self.down_since = now
            logger.warning(
                "cache level unavailable (%s): %s; skipped until it is back, retried every %g s",
                self.what,
                str(exc) or type(exc).__name__,
                self.retry_interval,
            )
        return LevelDown(self.what)

    def succeeded(self) -> None:
        if self.down_since is not None:
            lasted = time.monotonic() - self.down_since
            self.down_since = None
            logger.info("cache level is back (%s) after %.1f s", self.what, lasted)
