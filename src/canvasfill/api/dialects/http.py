"""The glue every dialect's routes share: read the request, accept the task, wait, view it.

Dialect modules stay translations: they parse fields into a ``Submission`` and render
a ``TaskView``; this module does the I/O (form reading, the task store, the dispatcher,
blob reads) through the same service calls the native API uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from canvasfill.api.auth import authorize
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.api.dialects.view import DialectResult, TaskView
from canvasfill.api.errors import ApiCode, ApiError, ErrorInfo, register_error_renderer
from canvasfill.api.ratelimit import RateLimiter
from canvasfill.api.render import result_views
from canvasfill.api.service import Service, wait_for_finish
from canvasfill.jobs.accept import Submission, accept
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.logs import request_id
from canvasfill.jobs.models import ApiKey, Task
from canvasfill.jobs.runtime import Runtime
from canvasfill.storage.base import BlobStore

MAX_FORM_PART_BYTES = 50 * 1024 * 1024


async def read_form(request: Request) -> tuple[FieldReader, dict[str, bytes]]:
    """Multipart (or url-encoded) fields and files; a missing or empty file is absent."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise ApiError(
            400, ApiCode.INVALID_REQUEST, "send the request as multipart/form-data", field="body"
        )
    form = await request.form(max_part_size=MAX_FORM_PART_BYTES)
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            if data:
                files[name] = data
        else:
            fields[name] = value
    return FieldReader(fields), files


def caller(
    service: Service, token: str | None, header: str, limiter: RateLimiter | None = None
) -> ApiKey:
    """The key for a dialect's own auth header (401 unknown, 429 over its rate)."""
    return authorize(service, token, limiter=limiter, header_hint=f"{header}: <key>")


async def submit(service: Service, key: ApiKey, submission: Submission) -> Task:
    """Accept the task (inputs stored first, credits held) and hand it to the dispatcher."""
    if submission.spec.engine == "auto":  # dialects name no engine: the operator's default
        engine = service.runtime.settings.default_engine
        submission = replace(submission, spec=submission.spec.model_copy(update={"engine": engine}))
    try:
        task, _created = await run_in_threadpool(accept, service.runtime, key, submission)
    except InsufficientCreditsError as exc:
        raise ApiError(
            402, ApiCode.INSUFFICIENT_CREDITS, f"{exc}; add credits to the key"
        ) from None
    service.dispatcher.submit(task.id)
    return task


def current_request_id() -> str:
    """The id the middleware gave this request (every dialect echoes it back)."""
    return request_id.get() or uuid.uuid4().hex


async def wait_sync(service: Service, task: Task) -> Task:
    """Wait as a synchronous door does: up to the task timeout plus a little slack."""
    return await wait_for_finish(service, task, service.runtime.settings.task_timeout_s + 5.0)


def view(task: Task, service: Service, request: Request | None) -> TaskView:
    """The dialect-neutral view of ``task``, with signed absolute result URLs."""
    return view_for(task, service.runtime, service.public_base(request))


def view_for(task: Task, runtime: Runtime, base: str) -> TaskView:
    """As :func:`view`, from the runtime alone (callbacks render outside a request)."""
    blobs: BlobStore = runtime.blobs
    urls = result_views(task, runtime, base)
    results = []
    for stored, signed in zip(task.results, urls, strict=False):
        watermark_key = stored.get("watermark_key")
        watermark_url = None
        if watermark_key and task.results_expire_at is not None:
            watermark_url = blobs.url(watermark_key, task.results_expire_at, base)
        results.append(
            DialectResult(
                **vars(signed),
                load=_loader(blobs, str(stored["key"])),
                watermark_url=watermark_url,
            )
        )
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
        error_code=task.error_code,
        error_message=task.error_message,
        results=tuple(results),
        external_id=task.external_id,
    )


def _loader(blobs: BlobStore, key: str) -> Callable[[], bytes]:
    return lambda: blobs.get(key)


def install_error_renderer(
    app: FastAPI,
    prefixes: tuple[str, ...],
    render: Callable[[ErrorInfo], tuple[int, dict[str, Any]]],
) -> None:
    """Errors under ``prefixes`` (validation, auth, rate, not found...) in the dialect's shape."""

    def renderer(info: ErrorInfo) -> Response:
        status, body = render(info)
        return JSONResponse(body, status_code=status, headers=info.headers)

    for prefix in prefixes:
        register_error_renderer(app, prefix, renderer)
