"""``execute(task_id)``: the one place where work happens.

The embedded dispatcher's worker processes, a Celery worker and a direct call all end
here. It claims the task (a finished or foreign-owned task makes it a no-op), loads
the inputs from the blob store (downloading URL inputs first, once), runs the same
``prepare`` + ``run`` as every other door, stores the results under keys derived from
the task id and records the outcome. Running it twice for one task is harmless: the
second run either finds the task finished or replaces the first run's attempt, and
only the attempt that owns the task may record an outcome. While it runs, a heartbeat
thread renews the attempt's lease (``lease_s``), which is how other nodes know it lives.

Whoever calls it may pass ``on_progress``: it is told the task id once the task runs and
after each progress write, so that event streams learn of the change without polling
(a Celery worker publishes on Redis; an embedded worker sends its server a notice);
and ``on_outcome``: told the task id the moment an attempt's outcome is recorded, before
the run winds down (an embedded worker's notice wakes the waiting request at once).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from canvasfill.errors import CanvasfillError, ErrorCode, FillCanceledError
from canvasfill.imaging.limits import BY_NAME, NATIVE
from canvasfill.imaging.masks import encode_mask
from canvasfill.jobs.at_once import at_once
from canvasfill.jobs.events import ProgressHook
from canvasfill.jobs.fetch import AddressPolicy, fetch_url
from canvasfill.jobs.logs import task_context
from canvasfill.jobs.previews import keep_previews
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.tables import Task
from canvasfill.jobs.tasks import ResultBlob
from canvasfill.pipeline.prepare import prepare
from canvasfill.pipeline.run import run
from canvasfill.pipeline.spec import JobSpec
from canvasfill.storage.base import BlobNotFoundError, input_key, result_key

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.2
"""Progress is written (and announced) at most this often: a stream sees it move, and a
slow task costs the database a few small transactions a second."""


CANCEL_CHECK_S = 0.5
"""A running task's record is read for a cancel request at most this often."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(
    task_id: str,
    runtime: Runtime,
    on_progress: ProgressHook | None = None,
    on_outcome: ProgressHook | None = None,
) -> None:
    """Run task ``task_id`` to an outcome recorded in the store (see the module doc)."""
    lease = timedelta(seconds=runtime.settings.lease_s)
    announce = _Announce(on_progress)
    with task_context(task_id):
        claim = runtime.tasks.claim(task_id, worker_name(), runtime.settings.max_attempts, lease)
        if claim is None:
            log.info("task needs no run", extra={"event": "task_skipped"})
            return
        log.info("task started", extra={"event": "task_started", "attempt": claim.attempt})
        announce(task_id)  # it runs now
        with _heartbeat(runtime, task_id, claim.attempt, lease):
            _attempt(runtime, claim.task, claim.attempt, announce)
            _Announce(on_outcome)(task_id)  # recorded (or dropped): wake its waiters now


@contextmanager
def _heartbeat(runtime: Runtime, task_id: str, attempt: int, lease: timedelta) -> Iterator[None]:
    """Renew the attempt's lease every third of it while the body runs.

    A thread, so a long engine call in native code keeps the lease alive; if this
    process dies, the renewals stop and the lease lapses for the sweeper to see.
    """
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                if not runtime.tasks.renew_lease(task_id, attempt, lease):
                    return  # finished, timed out or taken over: nothing left to hold
            except Exception:  # a database hiccup: try again at the next beat
                log.warning("lease renewal failed", exc_info=True, extra={"event": "lease"})

    thread = threading.Thread(target=renew, name=f"lease-{task_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _attempt(runtime: Runtime, task: Task, attempt: int, announce: ProgressHook) -> None:
    tasks, ttl = runtime.tasks, runtime.result_ttl
    try:
        spec = JobSpec.model_validate(task.spec)
        image, mask = _inputs(runtime, task, spec)
        prepared = prepare(spec, image, mask)
        report = _Progress(runtime, task.id, attempt, announce)
        report(5)
        output = run(
            spec,
            prepared,
            report,
            should_stop=_CancelWatch(runtime, task.id),
            png_compress_level=runtime.settings.png_compress_level,
            # only a task that asked for previews stores (and announces) any
            on_preview=keep_previews(runtime, task.id, announce) if spec.previews else None,
        )
        files: dict[str, bytes] = {}  # written side by side once all are known
        mask_key = None
        if output.fill_mask is not None:
            mask_key = result_key(task.id, 0, "png", "mask")
            level = runtime.settings.png_compress_level
            files[mask_key] = encode_mask(output.fill_mask, png_compress_level=level)
        elif spec.mask_only:  # the result is the mask
            mask_key = result_key(task.id, 0, output.images[0].format.extension)
        results = []
        for index, result in enumerate(output.images):
            key = result_key(task.id, index, result.format.extension)
            files[key] = result.data
            watermark_key = None
            if result.watermarked is not None:
                watermark_key = result_key(task.id, index, result.format.extension, "watermark")
                files[watermark_key] = result.watermarked
            results.append(
                ResultBlob(
                    key, result.width, result.height, result.format.value, watermark_key, mask_key
                )
            )
        at_once([partial(runtime.blobs.put, key, data) for key, data in files.items()])
        ignored = [param.value for param in output.ignored]
        if tasks.succeed(task.id, attempt, results, output.engine, ignored, ttl):
            log.info(
                "task succeeded",
                extra={
                    "event": "task_succeeded",
                    "engine": output.engine,
                    "seconds": output.seconds,
                },
            )
        else:
            log.info("task outcome dropped: another attempt owns it", extra={"event": "stale"})
    except FillCanceledError:
        if tasks.stop_canceled(task.id, attempt):
            log.info("task canceled while it ran", extra={"event": "task_canceled"})
        announce(task.id)
    except CanvasfillError as exc:
        _fail(runtime, task, attempt, exc.code, exc.message, exc.field)
    except BlobNotFoundError as exc:
        _fail(
            runtime, task, attempt, ErrorCode.INPUT_MISSING, f"the stored input {exc} is gone", None
        )
    except Exception as exc:
        log.exception("task crashed", extra={"event": "task_crashed"})
        message = f"the server failed while running the task ({type(exc).__name__}); try again"
        _fail(runtime, task, attempt, ErrorCode.INTERNAL_ERROR, message, None)


class _Progress:
    """Progress reports written at most every ``PROGRESS_EVERY_S``, each write announced:
    a fast task writes none (each write is a transaction, and success says 100 anyway),
    a slow one keeps its event streams informed."""

    def __init__(self, runtime: Runtime, task_id: str, attempt: int, announce: ProgressHook):
        self._tasks, self._task_id, self._attempt = runtime.tasks, task_id, attempt
        self._announce = announce
        self._last = time.monotonic()

    def __call__(self, percent: int) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self._tasks.set_progress(self._task_id, self._attempt, percent)
            self._announce(self._task_id)


class _CancelWatch:
    """``should_stop`` for a task's run: whether its record carries a cancel request.

    The engine asks at every step; the record is read at most every ``CANCEL_CHECK_S``
    (one indexed column), so a fast engine costs the database nothing and a canceled
    task stops within that time plus one step, on whatever node runs it."""

    def __init__(self, runtime: Runtime, task_id: str) -> None:
        self._tasks, self._task_id = runtime.tasks, task_id
        self._last = time.monotonic()
        self._requested = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._requested and now - self._last >= CANCEL_CHECK_S:
            self._last = now
            try:
                self._requested = self._tasks.cancel_requested(self._task_id)
            except Exception:  # a database hiccup: ask again at the next check
                log.warning("cancel check failed", exc_info=True, extra={"event": "cancel"})
        return self._requested


class _Announce:
    """``on_progress``, or nothing; a hook that fails is logged, never fails the task."""

    def __init__(self, hook: ProgressHook | None) -> None:
        self._hook = hook

    def __call__(self, task_id: str) -> None:
        if self._hook is None:
            return
        try:
            self._hook(task_id)
        except Exception:  # an event is a wake-up: waiters re-read on a period anyway
            log.warning("progress event not published", exc_info=True, extra={"event": "pubsub"})


def _fail(
    runtime: Runtime, task: Task, attempt: int, code: ErrorCode, message: str, field: str | None
) -> None:
    runtime.tasks.fail(task.id, code, message, runtime.result_ttl, field=field, attempt=attempt)
    log.info("task failed", extra={"event": "task_failed", "code": code.value})


def _inputs(runtime: Runtime, task: Task, spec: JobSpec) -> tuple[bytes, bytes | None]:
    """The image and mask bytes, downloading URL inputs into the blob store once; the
    two side by side (``at_once``: each is a round trip to S3, or a download)."""
    calls = [partial(_input, runtime, task, "image", task.image_url, spec)]
    if task.has_mask or task.mask_url:
        calls.append(partial(_input, runtime, task, "mask", task.mask_url, spec))
    image, *mask = at_once(calls)
    return image, (mask[0] if mask else None)


def _input(runtime: Runtime, task: Task, name: str, url: str | None, spec: JobSpec) -> bytes:
    key = input_key(task.id, name)
    if url and not runtime.blobs.exists(key):
        settings = runtime.settings
        data = fetch_url(
            url,
            field=f"{name}_url",
            max_bytes=BY_NAME.get(spec.limits, NATIVE).max_bytes,
            timeout=settings.url_timeout_s,
            max_redirects=settings.url_max_redirects,
            policy=AddressPolicy(settings.url_allow),
        )
        runtime.blobs.put(key, data)
        return data
    return runtime.blobs.get(key)
