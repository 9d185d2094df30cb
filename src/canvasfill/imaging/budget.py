"""A memory budget shared by concurrent decodes: how many bytes of pixels may be held at once.

The pixel limits bound one image, not twenty at a time: twenty legitimate 8192x8192
masks decoded together would hold gigabytes. Each decode reserves what it will hold
before it starts and waits while the budget is spent, so the process's memory stays
bounded whatever arrives. One decode larger than the whole budget runs alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class MemoryBudget:
    """Bytes that concurrent decodes may reserve together (thread-safe)."""

    def __init__(self, limit_bytes: int) -> None:
        if limit_bytes <= 0:
            raise ValueError("a memory budget must be positive")
        self.limit = limit_bytes
        self._used = 0
        self._changed = threading.Condition()

    @property
    def used(self) -> int:
        """Bytes reserved now (for tests and metrics)."""
        with self._changed:
            return self._used

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        """Hold ``nbytes`` (at most the whole budget) while the block runs."""
        take = min(max(nbytes, 0), self.limit)
        with self._changed:
            while self._used + take > self.limit:
                self._changed.wait()
            self._used += take
        try:
            yield
        finally:
            with self._changed:
                self._used -= take
                self._changed.notify_all()
