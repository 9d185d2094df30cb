"""The steps every door's operations share, each one blocking (the handler runs them off
the event loop): accept, wait, look up, cancel and view the caller's tasks.

Tasks are looked up only as the caller's own, and views carry what a renderer needs
(signed result URLs, and the result bytes for the doors that answer with base64), so no
door touches a store or the blob store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import ExitStack
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from canvasfill.api.errors import STORAGE_MESSAGE, ApiError
from canvasfill.api.service import Service
from canvasfill.errors import ErrorCode
from canvasfill.jobs.accept import accept
from canvasfill.jobs.events import RECHECK_S, Watch
from canvasfill.jobs.idempotency import Idempotency, IdempotencyConflictError, fingerprint
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey, Task, TaskStatus

log = logging.getLogger(__name__)


def accept_task(
    service: Service,
    key: ApiKey,
    submission: Submission,
    idem: Idempotency | None,
    repeat: str | None,
    before_dispatch: Callable[[Task, bool], None] | None = None,
) -> Task:
    """Accept the task (inputs stored first, credits held) and hand it to the dispatcher.

    ``repeat`` is a synchronous request's body fingerprint (:func:`body_fingerprint`):
    the same request retried while its task runs joins that task (``jobs.accept``).
    ``before_dispatch(task, created)`` runs between the two (a waiter starts listening
    there, so that it needs no re-read of a task it has just stored).
    """
    try:
        task, created = accept(service.runtime, key, submission, idem, repeat)
    except InsufficientCreditsError as exc:
        raise ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"{exc}; ask for fewer images, or have the operator add credits to the key "
            "('canvasfill keys credits KEY_ID --add N')",
        ) from None
    except IdempotencyConflictError:
        raise ApiError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used with a different request; use a new key",
            field="Idempotency-Key",
        ) from None
    except (OSError, SQLAlchemyError):
        log.exception("a task could not be stored", extra={"event": "store_failed"})
        raise ApiError(ErrorCode.STORAGE_UNAVAILABLE, STORAGE_MESSAGE) from None
    if before_dispatch is not None:
        before_dispatch(task, created)
    service.dispatcher.submit(task.id, engine=task.engine)
    return task


def body_fingerprint(fields: Mapping[str, Any], files: Mapping[str, bytes]) -> str:
    """What a request asked for, independent of its encoding (multipart boundary, order)."""
    names = sorted(files)
    return fingerprint({"fields": dict(fields), "files": names}, *(files[name] for name in names))


async def wait(
    service: Service,
    task: Task,
    seconds: float,
    early: Watch | None = None,
    reread: Callable[[str], Awaitable[Task | None]] | None = None,
) -> Task:
    """The task once it finishes, or as it is after ``seconds``.

    Woken by the service's task events (in process, or Redis pub/sub across nodes),
    not by polling; the record is re-read each time, as the truth, and at least every
    ``events.RECHECK_S`` in case an event was lost.

    ``early`` is a watch opened on ``task`` before it was dispatched (the caller closes
    it): then ``task`` as stored is as current as a re-read, and the first read is
    saved. Without it, listening starts here, before the first re-read, so that a
    finish between the two still wakes us. ``reread`` reads the task off the loop (by
    default ``tasks.get`` in the thread pool; a caller may do more in the same hop).
    """
    deadline = time.monotonic() + seconds
    tasks = service.runtime.tasks

    async def read(task_id: str) -> Task | None:
        return await run_in_threadpool(tasks.get, task_id)

    reread = reread or read
    with ExitStack() as stack:
        watch = early or stack.enter_context(service.events.watch(task.id))
        again = early is None
        while not TaskStatus(task.status).finished:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if again:
                task = await reread(task.id) or task
                if TaskStatus(task.status).finished:
                    break
            again = True
            await watch.wait(min(remaining, RECHECK_S))
    return task


def timed_out(task: Task) -> ApiError:
    """What a synchronous door answers when its task is still unfinished after the wait."""
    return ApiError(ErrorCode.TIMEOUT, f"the task did not finish in time (task {task.id})")


def find_task(
    service: Service,
    key: ApiKey,
    task_id: str,
    dialect: str | None = None,
    *,
    by_external_id: bool = False,
) -> Task:
    """Task ``task_id`` if it is ``key``'s (and came in by ``dialect``, when given); 404.

    With ``by_external_id``, an id that names no task is also tried as the caller's own
    external id (Kling queries take either).
    """
    tasks = service.runtime.tasks
    task = tasks.get(task_id)
    if task is not None and task.key_id == key.id and dialect in (None, task.dialect):
        return task
    if by_external_id and dialect is not None:
        found = tasks.find_external(key.id, dialect, task_id)
        if found is not None:
            return found
    raise not_found(task_id)


def not_found(task_id: str) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"there is no task {task_id!r} for this key")


def list_tasks(
    service: Service,
    key: ApiKey,
    limit: int,
    *,
    before_seq: int | None = None,
    offset: int = 0,
    dialect: str | None = None,
) -> list[Task]:
    """The caller's tasks, newest first."""
    return service.runtime.tasks.list_for_key(
        key.id, limit, before_seq=before_seq, offset=offset, dialect=dialect
    )


def cancel(service: Service, key: ApiKey, task_id: str) -> Task:
    """Cancel the caller's task: a queued one at once, a running one by marking its
    record for its worker to stop between steps (the task comes back still running);
    409 once it has finished."""
    task = find_task(service, key, task_id)
    tasks = service.runtime.tasks
    if not tasks.cancel(task.id) and not tasks.request_cancel(task.id):
        current = tasks.get(task.id) or task
        raise ApiError(
            ErrorCode.TASK_NOT_CANCELABLE,
            f"the task is {current.status}; only a queued or running task can be canceled",
        )
    service.callbacks.wake()
    return tasks.get(task.id) or task
