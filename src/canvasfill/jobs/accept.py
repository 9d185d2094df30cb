"""Accepting work: what every door does once it has parsed a request into a ``Submission``.

Everything a task's terms depend on is decided here, once, for every door: the engine
(a request that names none, or ``auto``, gets the operator's ``default_engine``, and
where that is ``auto`` too the best engine available; the task stores the real name), the
price (credits held now, kept only for successful images) and idempotency (a retried
request gets its first attempt's task).

Order matters for "no accepted task is ever lost": the inputs are checked and written to
the blob store (side by side; a refused upload's files are removed again), and only then
is the task stored, in the same transaction as its credit hold and idempotency key.
The caller hands the task to a dispatcher afterwards; should that step never happen,
the dispatcher's scan or the next start finds the task queued and runs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta
from functools import partial

from canvasfill.engines.registry import choose_engine
from canvasfill.jobs.at_once import at_once
from canvasfill.jobs.fetch import check_url
from canvasfill.jobs.idempotency import Idempotency
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey, Task, utcnow
from canvasfill.jobs.tasks import new_task_id
from canvasfill.pipeline.prepare import check
from canvasfill.pipeline.spec import MASK_ENGINE, JobSpec
from canvasfill.storage.base import input_key, task_prefixes

CALLBACK_URL_MAX = 2048


REPEAT_META = "repeat_of"
"""Where a synchronous task keeps the fingerprint of the request that made it."""


def accept(
    runtime: Runtime,
    key: ApiKey,
    submission: Submission,
    idem: Idempotency | None = None,
    repeat: str | None = None,
) -> tuple[Task, bool]:
    """Store a task for ``submission``; returns (task, created).

    ``repeat`` is the fingerprint of a synchronous request's body: when the key made
    the same request less than ``sync_join_s`` ago and its task is still queued or
    running, that task comes back (``created`` False) rather than a second one, so a
    client that timed out and retries waits on the work it already paid for.

    Raises ``InputError`` for bad inputs (``tasks.ExternalIdTakenError`` for a reused
    external id), ``keys.InsufficientCreditsError`` when the key cannot pay and
    ``idempotency.IdempotencyConflictError`` for a reused key with another body.
    """
    _check_urls(runtime, submission)
    ttl = timedelta(seconds=runtime.settings.idempotency_ttl_s)
    if idem is not None:
        existing = runtime.idempotency.find(key.id, idem, ttl)
        if existing is not None:
            return existing, False
    if repeat is not None and runtime.settings.sync_join_s > 0:
        repeat = _repeat_marker(submission, repeat)
        since = utcnow() - timedelta(seconds=runtime.settings.sync_join_s)
        running = runtime.tasks.find_unfinished_by_meta(key.id, REPEAT_META, repeat, since)
        if running is not None:
            return running, False
        submission = replace(submission, meta={**submission.meta, REPEAT_META: repeat})
    submission = with_engine(submission, _engine_for(runtime, submission.spec))
    spec = submission.spec
    cost = _price(runtime, submission) * spec.n
    _check_credits(key, cost)
    task_id = new_task_id()
    try:
        _store_checked_inputs(runtime, submission, task_id)
        task, created = runtime.tasks.create(
            task_id, key.id, submission, cost, idem, ttl, limited_key=key.credits is not None
        )
    except BaseException:
        with suppress(Exception):  # the caller hears the first error, not the cleanup's
            _drop_inputs(runtime, task_id)
        raise
    if not created:
        _drop_inputs(runtime, task_id)
    return task, created


def _store_checked_inputs(runtime: Runtime, submission: Submission, task_id: str) -> None:
    """Write the inputs while the upload is checked: each write is a round trip to S3,
    and nothing waits on another (``at_once``). A refused upload raises once its writes
    have ended, so the caller's cleanup finds them."""
    calls: list[Callable[[], None]] = []
    image, mask, spec = submission.image, submission.mask, submission.spec
    if image is not None and submission.mask_url is None:
        calls.append(partial(check, spec, image, mask, budget=runtime.decode_budget))
    for name, data in (("image", image), ("mask", mask)):
        if data is not None:
            calls.append(partial(runtime.blobs.put, input_key(task_id, name), data))
    at_once(calls)


def _repeat_marker(submission: Submission, fingerprint: str) -> str:
    """The body's fingerprint, qualified by the door and the operation it asked for."""
    scope = f"{submission.dialect}:{submission.spec.kind}:{fingerprint}"
    return hashlib.sha256(scope.encode()).hexdigest()


def _engine_for(runtime: Runtime, spec: JobSpec) -> str:
    """The real name of the engine ``spec`` runs on, decided here once for the task's
    life (``auto`` ranked, the operator's default applied): its queue and its worker
    run what the task says. An unknown or unusable engine is the caller's to fix: it
    is refused now, not in the task."""
    if spec.mask_only:  # the detectors answer; no fill engine is chosen or needed
        return MASK_ENGINE
    default = runtime.settings.default_engine
    return choose_engine(spec.engine, spec.operation, spec.fill_params(), default=default).name


def with_engine(submission: Submission, engine: str) -> Submission:
    """The submission with ``engine`` as its spec's engine."""
    if submission.spec.engine == engine:
        return submission
    return replace(submission, spec=submission.spec.model_copy(update={"engine": engine}))


def _check_credits(key: ApiKey, cost: int) -> None:
    """Refuse a key that cannot pay before any input is looked at, so a key with no
    credits costs the service nothing. The balance read at authorization may be stale:
    the hold taken with the task (``tasks.create``) is the one that counts."""
    if key.credits is not None and key.credits < cost:
        raise InsufficientCreditsError(cost, key.credits)


def _check_urls(runtime: Runtime, submission: Submission) -> None:
    """URL checks that need no network (length, http(s), a host), for every door alike."""
    for field_name, url in (("image_url", submission.image_url), ("mask_url", submission.mask_url)):
        if url is not None:
            check_url(url, runtime.settings.url_max_length, field_name)
    if submission.callback_url is not None:
        check_url(submission.callback_url, CALLBACK_URL_MAX, "callback_url")


def _price(runtime: Runtime, submission: Submission) -> int:
    if submission.price_per_image is not None:
        return submission.price_per_image
    return runtime.settings.price_for(submission.spec.kind)


def _drop_inputs(runtime: Runtime, task_id: str) -> None:
    for prefix in task_prefixes(task_id):
        runtime.blobs.delete_prefix(prefix)
