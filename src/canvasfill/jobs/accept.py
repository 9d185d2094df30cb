"""Accepting work: what every door does once it has parsed a request into a ``JobSpec``.

Order matters for "no accepted task is ever lost": the inputs are checked (bad input is
refused at once), written to the blob store, and only then is the task stored, in the
same transaction as its credit hold and idempotency key. The caller hands the task to a
dispatcher afterwards; should that step never happen, the dispatcher's scan or the
next start finds the task queued and runs it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from canvasfill.engines.registry import choose_engine
from canvasfill.jobs.fetch import check_url
from canvasfill.jobs.models import ApiKey, Task
from canvasfill.jobs.pipeline import prepare
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.spec import JobSpec
from canvasfill.jobs.store import NOTIFY_FINISH, Idempotency, NewTask, new_task_id
from canvasfill.storage.base import input_key, task_prefixes

CALLBACK_URL_MAX = 2048


@dataclass(frozen=True)
class Submission:
    """A parsed request: the spec plus its inputs (bytes, or URLs fetched by the task)."""

    spec: JobSpec
    image: bytes | None = None
    image_url: str | None = None
    mask: bytes | None = None
    mask_url: str | None = None
    callback_url: str | None = None
    notify_on: str = NOTIFY_FINISH
    dialect: str = "native"
    external_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    price_per_image: int | None = None
    """Credits per result image; None: the ``price_per_image`` setting for the operation."""

    def __post_init__(self) -> None:
        if (self.image is None) == (self.image_url is None):
            raise ValueError("a submission has exactly one of image and image_url")
        if self.mask is not None and self.mask_url is not None:
            raise ValueError("a submission has at most one of mask and mask_url")


def fingerprint(request: dict[str, Any], *blobs: bytes | None) -> str:
    """A hash of what a request asks for, for Idempotency-Key checks.

    Built from the parsed fields and the input bytes, not the raw body, so the same
    upload sent twice (with a new multipart boundary) still matches.
    """
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode())
    for blob in blobs:
        digest.update(b"\0" if blob is None else hashlib.sha256(blob).digest())
    return digest.hexdigest()


def accept(
    runtime: Runtime,
    key: ApiKey,
    submission: Submission,
    idempotency: Idempotency | None = None,
) -> tuple[Task, bool]:
    """Store a task for ``submission``; returns (task, created).

    Raises ``InputError`` for bad inputs, ``keys.InsufficientCreditsError`` when the key
    cannot pay and ``store.IdempotencyConflictError`` for a reused key with another body.
    """
    _check_urls(runtime, submission)
    ttl = timedelta(seconds=runtime.settings.idempotency_ttl_s)
    if idempotency is not None:
        existing = runtime.tasks.find_idempotent(key.id, idempotency, ttl)
        if existing is not None:
            return existing, False
    spec = submission.spec
    # an unknown or unusable engine is the caller's to fix: refuse now, not in the task
    choose_engine(spec.engine, spec.operation, spec.fill_params())
    if submission.image is not None and submission.mask_url is None:
        prepare(spec, submission.image, submission.mask)
    task_id = new_task_id()
    if submission.image is not None:
        runtime.blobs.put(input_key(task_id, "image"), submission.image)
    if submission.mask is not None:
        runtime.blobs.put(input_key(task_id, "mask"), submission.mask)
    new = NewTask(
        key_id=key.id,
        spec=spec,
        has_mask=submission.mask is not None or submission.mask_url is not None,
        image_url=submission.image_url,
        mask_url=submission.mask_url,
        callback_url=submission.callback_url,
        notify_on=submission.notify_on,
        dialect=submission.dialect,
        external_id=submission.external_id,
        meta=submission.meta,
        cost=_price(runtime, submission) * spec.n,
        task_id=task_id,
    )
    try:
        task, created = runtime.tasks.create(new, idempotency, ttl)
    except BaseException:
        _drop_inputs(runtime, task_id)
        raise
    if not created:
        _drop_inputs(runtime, task_id)
    return task, created


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
    return runtime.settings.price_for(submission.spec.operation.value)


def _drop_inputs(runtime: Runtime, task_id: str) -> None:
    for prefix in task_prefixes(task_id):
        runtime.blobs.delete_prefix(prefix)
