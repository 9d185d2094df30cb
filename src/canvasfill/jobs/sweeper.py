"""The sweeper: recovers abandoned tasks, and deletes the blobs of expired ones.

Two passes, run by a thread in every API node (any node may do them; each change is a
conditional update, so two nodes sweeping at once do no harm):

- ``recover`` (every ``watchdog_interval_s``): a running task whose lease lapsed (its
  worker died) is queued again and published, or fails once it was started
  ``max_attempts`` times; a queued task that nobody started for ``republish_after_s``
  (its message lost, say with a broker restart) is published again. With
  ``fail_overdue`` (distributed mode) tasks whose worker ran them past ``task_timeout_s``
  fail here too (a task whose worker died earlier is requeued, however long ago it
  started: after an outage it is the lease, not the clock, that says what happened); the
  embedded dispatcher does that itself, as it can also stop the worker.
- ``sweep`` (every ``sweep_interval_s``): a task's record stays (its history is cheap);
  its inputs and result images go once ``result_ttl_s`` has passed since it finished,
  and its URLs stop working at the same moment because they were signed to expire then.
  Idempotency records past their TTL go on the same pass.

It lives in ``jobs`` because it joins the task store and the blob store; ``storage``
knows nothing of tasks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Recovery:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    republished: list[str] = field(default_factory=list)


def recover(
    runtime: Runtime,
    publish: Callable[[str], None],
    on_finished: Callable[[str], None] | None = None,
    *,
    fail_overdue: bool = False,
) -> Recovery:
    """One recovery pass (see the module doc); ``publish`` hands a task id to the
    dispatcher, ``on_finished`` is told of each task this pass ended."""
    settings, tasks = runtime.settings, runtime.tasks
    done = Recovery()
    if fail_overdue:
        timeout = timedelta(seconds=settings.task_timeout_s)
        lease = timedelta(seconds=settings.lease_s)
        for task in tasks.fail_overdue(timeout, lease, runtime.result_ttl):
            log.warning("task timed out", extra={"event": "task_timeout", "task_id": task.id})
            done.failed.append(task.id)
    done.requeued, crashed = tasks.requeue_lapsed(settings.max_attempts, runtime.result_ttl)
    done.failed += crashed
    done.republished = tasks.due_for_dispatch(timedelta(seconds=settings.republish_after_s))
    for task_id in done.requeued:
        log.warning(
            "lease lapsed: task queued again", extra={"event": "lease_lapsed", "task_id": task_id}
        )
    for task_id in done.republished:
        log.warning(
            "queued task published again", extra={"event": "republished", "task_id": task_id}
        )
    for task_id in done.requeued + done.republished:
        publish(task_id)
    if on_finished is not None:
        for task_id in done.failed:
            on_finished(task_id)
    return done


class Sweeper:
    def __init__(
        self,
        runtime: Runtime,
        publish: Callable[[str], None] | None = None,
        on_finished: Callable[[str], None] | None = None,
        *,
        fail_overdue: bool = False,
    ) -> None:
        self._runtime = runtime
        self._publish = publish
        self._on_finished = on_finished
        self._fail_overdue = fail_overdue
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
        settings = self._runtime.settings
        next_sweep = time.monotonic() + settings.sweep_interval_s
        while not self._stop.wait(min(settings.watchdog_interval_s, settings.sweep_interval_s)):
            if self._publish is not None:
                try:
                    recover(
                        self._runtime,
                        self._publish,
                        self._on_finished,
                        fail_overdue=self._fail_overdue,
                    )
                except Exception:
                    log.exception("recovery failed", extra={"event": "recover_error"})
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + settings.sweep_interval_s
                try:
                    sweep(self._runtime)
                except Exception:
                    log.exception("sweep failed", extra={"event": "sweep_error"})
