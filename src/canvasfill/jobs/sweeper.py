"""The sweeper: deletes the blobs of tasks whose results expired and marks them expired.

A task's record stays (its history is cheap); its inputs and result images go once
``result_ttl_s`` has passed since it finished, and its URLs stop working at the same
moment because they were signed to expire then. Idempotency records past their TTL go
on the same pass. It lives in ``jobs`` because it joins the task store and the blob
store; ``storage`` knows nothing of tasks.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from canvasfill.jobs.runtime import Runtime
from canvasfill.storage.base import task_prefixes

log = logging.getLogger(__name__)


def sweep(runtime: Runtime) -> list[str]:
    """One pass: returns the ids of the tasks whose blobs were deleted."""
    expired = runtime.tasks.expire_due()
    runtime.idempotency.forget_expired(timedelta(seconds=runtime.settings.idempotency_ttl_s))
    for task_id in expired:
        for prefix in task_prefixes(task_id):
            runtime.blobs.delete_prefix(prefix)
    if expired:
        log.info("expired %d tasks' blobs", len(expired), extra={"event": "sweep"})
    return expired


class Sweeper:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._runtime.settings.sweep_interval_s):
            try:
                sweep(self._runtime)
            except Exception:
                log.exception("sweep failed", extra={"event": "sweep_error"})
