"""Independent blocking calls side by side: a task's files, and the check of its upload.

Over S3 every blob call is a round trip of a few milliseconds, and a task's files do not
depend on each other: its image and mask going in, its result and fill mask coming out.
One after another they add up (about 6 ms of a 512 px removal's inputs on a local S3
server); at once they take as long as the slowest. The upload's integrity check
(mostly zlib, which lets go of the GIL) overlaps its own writes the same way.

A small pool of threads per process, made on first use; a process forked after that
(a Celery worker child) makes its own rather than inherit threads that do not exist in it.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["at_once"]

T = TypeVar("T")

THREADS = 8
"""Calls in flight per process beyond the caller's own: several requests' files at once."""

_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(THREADS, thread_name_prefix="at-once"))
        return _pool[1]


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Each call's result, in order, the calls made at once: the first in this thread,
    the others in the pool, each in a copy of this thread's context (the log fields of
    the task it serves). Returns when every call has ended, so nothing is still
    writing when the caller goes on (or cleans up after a failure); then raises the
    first failure in call order."""
    if not calls:
        return []
    pool = _executor()
    others: list[Future[T]] = [
        pool.submit(contextvars.copy_context().run, call) for call in calls[1:]
    ]
    try:
        first = calls[0]()
    finally:
        wait(others)
    return [first, *(future.result() for future in others)]
