"""Turning a task record into what callers see: views, result URLs, the native task JSON.

Result URLs are signed when rendered and expire with the results themselves, so every
rendering of one task shows the same URLs. A view is built in the thread pool (it may
read result bytes); doors render views, never records.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from canvasfill.api.errors import ApiError
from canvasfill.api.view import DialectResult, PreviewView, ResultView, TaskView
from canvasfill.errors import ErrorCode
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.tables import Task
from canvasfill.storage.base import BlobNotFoundError


def results_expired(task: Task, now: datetime | None = None) -> bool:
    """Whether the task's results are gone, decided on read: the sweeper's flag lags the
    TTL by up to a sweep interval, and a reader must not see ``results: []`` beside
    ``results_expired: false`` meanwhile."""
    if task.results_expired:
        return True
    expire_at = task.results_expire_at
    return expire_at is not None and expire_at <= (now or datetime.now(UTC))


def result_views(task: Task, runtime: Runtime, base_url: str) -> list[ResultView]:
    """Signed URLs of the task's results; none once they expired."""
    if task.results_expire_at is None or results_expired(task):
        return []
    return [
        ResultView(
            url=runtime.blobs.url(result["key"], task.results_expire_at, base_url),
            width=int(result["width"]),
            height=int(result["height"]),
            format=str(result["format"]),
        )
        for result in task.results
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def view_for(task: Task, runtime: Runtime, base: str, *, with_data: bool = False) -> TaskView:
    """The door-neutral view of ``task``: signed absolute result URLs under ``base``, and
    with ``with_data`` the result bytes (for answers that carry base64)."""
    blobs = runtime.blobs
    results = []
    for stored, signed in zip(task.results, result_views(task, runtime, base), strict=False):
        watermark_key = stored.get("watermark_key")
        watermark_url = None
        if watermark_key and task.results_expire_at is not None:
            watermark_url = blobs.url(watermark_key, task.results_expire_at, base)
        data = _result_bytes(runtime, str(stored["key"])) if with_data else None
        results.append(DialectResult(**vars(signed), data=data, watermark_url=watermark_url))
    return TaskView(
        id=task.id,
        status=task.status,
        progress=task.progress,
        created_at=task.created_at,
        updated_at=task.updated_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        engine=task.engine,
        seed=task.seed,
        error_code=ErrorCode.of(task.error_code) if task.error_code else None,
        error_message=task.error_message,
        error_field=task.error_field,
        results=tuple(results),
        external_id=task.external_id,
        meta=dict(task.meta),
        operation=task.operation,
        n=int(task.spec.get("n", 1)),
        results_expire_at=task.results_expire_at,
        results_expired=results_expired(task),
        ignored=tuple(task.ignored),
        callback_url=task.callback_url,
        callback_state=task.callback_state,
        callback_attempts=task.callback_attempts,
        seq=task.seq,
        mask_url=_mask_url(task, runtime, base),
    )


def _mask_url(task: Task, runtime: Runtime, base: str) -> str | None:
    """The signed URL of the mask the task's fill used (kept with its first result), signed
    and expiring as the results are."""
    if not task.results or task.results_expire_at is None or results_expired(task):
        return None
    key = task.results[0].get("mask_key")
    return runtime.blobs.url(str(key), task.results_expire_at, base) if key else None


def preview_views(
    task: Task, keys: Sequence[str], first: int, runtime: Runtime, base: str
) -> list[PreviewView]:
    """The stored previews ``keys`` (the first of them preview ``first``), with their
    bytes and a signed URL valid as long as results are kept; one gone is skipped."""
    expires_at = datetime.now(UTC) + runtime.result_ttl
    views = []
    for offset, key in enumerate(keys):
        try:
            data = runtime.blobs.get(key)
        except BlobNotFoundError:  # swept under us: the next one may still be there
            continue
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            width, height = image.size
            kind = (image.format or "").lower()
        url = runtime.blobs.url(key, expires_at, base)
        views.append(PreviewView(first + offset, url, data, width, height, kind))
    return views


def _result_bytes(runtime: Runtime, key: str) -> bytes:
    """A result's bytes; 404 when the blob is gone (expired, or removed by hand)."""
    try:
        return runtime.blobs.get(key)
    except BlobNotFoundError:
        raise ApiError(
            ErrorCode.NOT_FOUND, "the task's result is gone (results expire); run it again"
        ) from None


def native_task_json(view: TaskView) -> dict[str, Any]:
    """The native API's task object."""
    error = None
    if view.error_code:
        error = {
            "code": view.error_code.value,
            "message": view.error_message,
            "field": view.error_field,
        }
    callback = None
    if view.callback_url:
        callback = {
            "url": view.callback_url,
            "state": view.callback_state,
            "attempts": view.callback_attempts,
        }
    return {
        "id": view.id,
        "object": "task",
        "operation": view.operation,
        "status": view.status,
        "progress": view.progress,
        "created_at": _iso(view.created_at),
        "started_at": _iso(view.started_at),
        "finished_at": _iso(view.finished_at),
        "engine": view.engine,
        "seed": view.seed,
        "n": view.n,
        "error": error,
        "results": [
            {"url": r.url, "width": r.width, "height": r.height, "format": r.format}
            for r in view.results
        ],
        "mask": view.mask_url,
        "results_expire_at": _iso(view.results_expire_at),
        "results_expired": view.results_expired,
        "ignored_params": list(view.ignored),
        "callback": callback,
    }


def native_task(task: Task, runtime: Runtime, base_url: str) -> dict[str, Any]:
    """The native task object of a stored task (SSE and callbacks)."""
    return native_task_json(view_for(task, runtime, base_url))


def native_callback_body(view: TaskView, event: str) -> dict[str, Any]:
    """Standard Webhooks' envelope: ``{type, timestamp, data}``."""
    return {"type": event, "timestamp": _iso(datetime.now(UTC)), "data": native_task_json(view)}
