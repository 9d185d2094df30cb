"""Per-key rate limiting: at most ``rate`` requests per second in any moving window.

The counting is the ``limits`` library's moving window, kept in this process's memory
(``RateLimiter``, the embedded default) or in Redis (``RedisRateLimiter``, with a broker
configured: several API nodes then draw from one window per key). A caller over the limit
gets 429 with ``Retry-After``: whole seconds (at least 1) until the oldest request in the
window leaves it. A fractional rate is an exact window (0.5/s: 1 per 2 s; 2.5/s: 5 per
2 s). ``rate <= 0`` turns limits off.
"""

from __future__ import annotations

import logging
import math
import time
from fractions import Fraction
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class Limiter(Protocol):
    rate: float

    def acquire(self, key: str) -> float | None:
        """Count one request for ``key``: None when allowed, else seconds until one is."""


def window_for(rate: float) -> RateLimitItem:
    """``rate`` per second as whole requests per whole seconds (limits counts integers)."""
    exact = Fraction(rate).limit_denominator(3600)
    return RateLimitItemPerSecond(max(1, exact.numerator), exact.denominator)


class _MovingWindow:
    def __init__(self, rate: float, storage: Storage, name: str) -> None:
        self.rate = rate
        self._name = name
        self._item = window_for(rate) if rate > 0 else None
        self._window = MovingWindowRateLimiter(storage)

    def acquire(self, key: str) -> float | None:
        if self._item is None:
            return None
        if self._window.hit(self._item, self._name, key):
            return None
        stats = self._window.get_window_stats(self._item, self._name, key)
        return max(0.0, stats.reset_time - time.time())


class RateLimiter(_MovingWindow):
    """The window in this process's memory."""

    def __init__(self, rate: float, name: str = "key") -> None:
        super().__init__(rate, MemoryStorage(), name)


class RedisRateLimiter(_MovingWindow):
    """The window in Redis, so every API node shares it per key.

    Entries carry each node's wall time, so nodes need synchronised clocks (NTP). If
    Redis cannot be reached the request is let through: rate limits protect capacity,
    and refusing every request because Redis blinked would be the larger harm.
    """

    def __init__(self, rate: float, url: str, *, name: str = "key") -> None:
        storage = RedisStorage(
            url,
            wrap_exceptions=True,  # one StorageError, whatever the client raised
            socket_timeout=1,
            socket_connect_timeout=1,
            key_prefix="canvasfill:rate",
        )
        super().__init__(rate, storage, name)

    def acquire(self, key: str) -> float | None:
        try:
            return super().acquire(key)
        except StorageError:
            log.warning("rate limit not checked: Redis unavailable", exc_info=True)
            return None


def limiter_for(rate: float, broker_url: str | None, name: str = "key") -> Limiter:
    """Shared in Redis with a broker configured, else in this process."""
    if broker_url:
        return RedisRateLimiter(rate, broker_url, name=name)
    return RateLimiter(rate, name)


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))
