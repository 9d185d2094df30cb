"""Per-key rate limiting: a token bucket per key, refilled at ``rate`` per second.

Embedded, the buckets live in the server's memory (``RateLimiter``). With a broker
configured there are several API nodes, so the buckets live in Redis
(``RedisRateLimiter``): one Lua script takes a token atomically, so every node draws
from the same bucket per key. A caller over the limit gets 429 with ``Retry-After``
(whole seconds, at least 1). Both take an injectable clock, for tests.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Limiter(Protocol):
    rate: float

    def acquire(self, key: str) -> float | None:
        """Take one token for ``key``: None when allowed, else seconds until one is free."""


class RateLimiter:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, rate)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float | None:
        """Take one token for ``key``: None when allowed, else seconds until one is free."""
        if self.rate <= 0:
            return None
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


# KEYS[1]: the bucket; ARGV: rate, burst, now (seconds), ttl (seconds)
# returns "" when allowed, else the seconds until a token is free
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens, last = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, last = burst, now end
if now > last then tokens = math.min(burst, tokens + (now - last) * rate) else now = last end
local wait = ''
if tokens >= 1 then tokens = tokens - 1 else wait = tostring((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return wait
"""


class RedisRateLimiter:
    """The same token bucket, kept in Redis so that every API node shares it per key.

    The clock is the caller's (wall time by default, so nodes need synchronised clocks,
    as with NTP); a clock running backwards never adds tokens. If Redis cannot be
    reached the request is let through: rate limits protect capacity, and refusing
    every request because Redis blinked would be the larger harm.
    """

    def __init__(
        self,
        rate: float,
        url: str,
        *,
        name: str = "key",
        clock: Callable[[], float] = time.time,
        client: Any = None,
    ) -> None:
        import redis

        self.rate = rate
        self.burst = max(1.0, rate)
        self._clock = clock
        self._prefix = f"canvasfill:rate:{name}:"
        self._client: Any = client or redis.Redis.from_url(
            url, socket_timeout=1, socket_connect_timeout=1
        )
        self._take = self._client.register_script(_TAKE)
        self._ttl = max(1, math.ceil(self.burst / rate)) + 60 if rate > 0 else 60

    def acquire(self, key: str) -> float | None:
        if self.rate <= 0:
            return None
        try:
            wait = self._take(
                keys=[self._prefix + key], args=[self.rate, self.burst, self._clock(), self._ttl]
            )
        except Exception:
            log.warning("rate limit not checked: Redis unavailable", exc_info=True)
            return None
        text = wait.decode() if isinstance(wait, bytes) else str(wait or "")
        return float(text) if text else None


def limiter_for(
    rate: float, broker_url: str | None, name: str = "key", clock: Callable[[], float] | None = None
) -> Limiter:
    """Shared in Redis with a broker configured, else in this process."""
    if broker_url:
        return RedisRateLimiter(rate, broker_url, name=name, clock=clock or time.time)
    return RateLimiter(rate, clock or time.monotonic)


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))
