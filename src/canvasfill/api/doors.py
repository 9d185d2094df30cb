"""The glue every door calls: read the body, accept, dispatch, wait, look up and view tasks.

A door (the native API and each vendor dialect) is a translation: it parses its request
into a ``Submission`` and renders a ``TaskView`` or an ``ErrorInfo`` in its own shape.
Everything between is here, once: bodies are read with a size cap while they stream
in, acceptance errors become the same ``ApiError`` for every door, tasks are looked up
only as the caller's own, and views carry what a renderer needs (signed result URLs,
and the result bytes for the doors that answer with base64), so no door touches a
store or the blob store.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import UploadFile

from canvasfill.api.errors import ApiError, ErrorInfo, register_error_renderer
from canvasfill.api.render import result_views
from canvasfill.api.service import Service
from canvasfill.api.view import DialectResult, TaskView
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.limits import ImageLimits
from canvasfill.jobs.accept import accept
from canvasfill.jobs.events import RECHECK_S
from canvasfill.jobs.idempotency import Idempotency, IdempotencyConflictError, fingerprint
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.logs import request_id
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey, Task, TaskStatus
from canvasfill.storage.base import BlobNotFoundError

log = logging.getLogger(__name__)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
JSON_TYPE = "application/json"


# --- reading bodies ----------------------------------------------------------------------


def body_cap(limits: ImageLimits, images: int = 2) -> int:
    """The largest body a door reads: ``images`` images at its limit, as base64, plus 1 MB."""
    return math.ceil(images * limits.max_bytes * 4 / 3) + 2**20


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _too_large(cap: int) -> ApiError:
    return ApiError(
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"the request body is larger than {cap / 2**20:.0f} MB; send smaller images",
    )


TEXT_FIELD_CAP = 64 * 1024
"""The longest form text field a door reads (prompts are far shorter; files are parts)."""
SPOOL_IN_MEMORY = 2**20
"""A body is kept in memory up to this size while it arrives, then in a temporary file,
so a body that is refused half-way never sat in memory."""
_REPLAY_CHUNK = 64 * 1024


async def read_capped(request: Request, cap: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``cap`` bytes.

    The declared ``Content-Length`` is checked first; a chunked body is counted as it
    arrives (and spooled to disk past 1 MB), so memory stays bounded whatever the client
    claims; a body that stalls for ``body_timeout_s`` is refused with 408.
    """
    with await _spool(request, cap) as spool:
        return spool.read()


async def _spool(request: Request, cap: int) -> IO[bytes]:
    """The body in a spooled temporary file, rewound; see :func:`read_capped`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    timeout = _body_timeout(request)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    try:
        size = 0
        chunks = request.stream().__aiter__()
        while True:
            try:
                async with asyncio.timeout(timeout):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise _stalled(timeout) from None
            size += len(chunk)
            if size > cap:
                raise _too_large(cap)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _body_timeout(request: Request) -> float:
    service: Service = request.app.state.service
    return service.runtime.settings.body_timeout_s


def _stalled(seconds: float) -> ApiError:
    return ApiError(
        408,
        ErrorCode.BODY_TIMEOUT,
        f"the request body stalled: nothing arrived for {seconds:g} s; send it again",
    )


async def read_json(request: Request, cap: int) -> Any:
    """The JSON body (any JSON value), read under ``cap``."""
    raw = await read_capped(request, cap)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "the body is not valid JSON", field="body"
        ) from None


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]
    """Text fields (the last value of a repeated name), empty values included."""
    files: dict[str, bytes]
    """Uploaded files; a file part with no bytes is absent, as if not sent."""


async def read_form(
    request: Request,
    cap: int,
    *,
    text_cap: int = TEXT_FIELD_CAP,
    large_text: tuple[str, ...] = (),
) -> Form:
    """A multipart or url-encoded body, read under ``cap``, then parsed.

    A text field longer than ``text_cap`` characters is refused (400, naming it), except
    those named in ``large_text`` (the native API's base64 ``image`` and ``mask``).
    """
    with await _spool(request, cap) as spool:
        form = await _replaying(request, spool).form(max_part_size=cap)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if data:
                    files[name] = data
            else:
                if len(value) > text_cap and name not in large_text:
                    raise InputError(
                        ErrorCode.INVALID_PARAMETER,
                        f"{name} is {len(value):,} characters long; a text field may be "
                        f"at most {text_cap:,}",
                        field=name,
                    )
                fields[name] = value
    finally:
        await form.close()
    return Form(fields, files)


def _replaying(request: Request, body: IO[bytes]) -> Request:
    """A request whose body is ``body``, already read (the form parser streams it again)."""
    done = False

    async def receive() -> dict[str, Any]:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        chunk = body.read(_REPLAY_CHUNK)
        done = len(chunk) < _REPLAY_CHUNK
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return Request(request.scope, receive)


async def form_body(request: Request, cap: int) -> Form:
    """A form door's body: 400 for any other content type, else :func:`read_form`."""
    if content_type(request) not in FORM_TYPES:
        raise unsupported_body(400, "multipart/form-data")
    return await read_form(request, cap)


async def form_or_json_body(
    request: Request, cap: int, base64_files: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A form door's fields and files, from multipart (or url-encoded) or from JSON.

    Clients of the hosted APIs send either. In a JSON object, the keys of
    ``base64_files`` hold base64 files (a ``data:`` prefix is fine) and become the file
    each names; every other key is a field, its JSON value kept (numbers, lists).
    """
    kind = content_type(request)
    if kind in FORM_TYPES:
        form = await read_form(request, cap)
        return dict(form.fields), form.files
    if kind != JSON_TYPE:
        raise unsupported_body(400, "multipart/form-data or application/json")
    body = await read_json(request, cap)
    if not isinstance(body, dict):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "the JSON body must be an object", field="body"
        )
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, value in body.items():
        if name in base64_files:
            if value not in (None, ""):
                files[base64_files[name]] = _base64_file(value, name)
        elif isinstance(value, str) and len(value) > TEXT_FIELD_CAP:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"{name} is {len(value):,} characters long; a text field may be at most "
                f"{TEXT_FIELD_CAP:,}",
                field=name,
            )
        else:
            fields[name] = value
    return fields, files


def _base64_file(value: Any, name: str) -> bytes:
    text = (
        value.partition(",")[2] if isinstance(value, str) and value.startswith("data:") else value
    )
    try:
        if not isinstance(text, str):
            raise ValueError(name)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, f"{name} is not valid base64", field=name
        ) from None


def unsupported_body(status: int, expected: str) -> ApiError:
    """The refusal of a body in a content type the door does not read."""
    return ApiError(
        status, ErrorCode.INVALID_REQUEST, f"send the request as {expected}", field="body"
    )


# --- accepting and waiting ---------------------------------------------------------------


async def submit(
    service: Service,
    key: ApiKey,
    submission: Submission,
    idem: Idempotency | None = None,
    *,
    repeat: str | None = None,
) -> Task:
    """Accept the task (inputs stored first, credits held) and hand it to the dispatcher.

    A synchronous door passes ``repeat``, its body's fingerprint (:func:`body_fingerprint`):
    the same request retried while its task runs joins that task (``jobs.accept``).
    """
    try:
        task, _created = await run_in_threadpool(
            accept, service.runtime, key, submission, idem, repeat
        )
    except InsufficientCreditsError as exc:
        raise ApiError(
            402,
            ErrorCode.INSUFFICIENT_CREDITS,
            f"{exc}; ask for fewer images, or have the operator add credits to the key "
            "('canvasfill keys credits KEY_ID --add N')",
        ) from None
    except IdempotencyConflictError:
        raise ApiError(
            422,
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used with a different request; use a new key",
            field="Idempotency-Key",
        ) from None
    except (OSError, SQLAlchemyError):
        log.exception("a task could not be stored", extra={"event": "store_failed"})
        raise storage_unavailable() from None
    service.dispatcher.submit(task.id)
    return task


def body_fingerprint(fields: Mapping[str, Any], files: Mapping[str, bytes]) -> str:
    """What a request asked for, independent of its encoding (multipart boundary, order)."""
    names = sorted(files)
    return fingerprint({"fields": dict(fields), "files": names}, *(files[name] for name in names))


def storage_unavailable() -> ApiError:
    """The refusal of a request the stores cannot take now (a read-only disk or database)."""
    return ApiError(
        503,
        ErrorCode.STORAGE_UNAVAILABLE,
        "the service cannot store data right now; retry later (the error was logged)",
    )


async def wait(service: Service, task: Task, seconds: float) -> Task:
    """The task once it finishes, or as it is after ``seconds``.

    Woken by the service's task events (in process, or Redis pub/sub across nodes),
    not by polling; the record is re-read each time, as the truth, and at least every
    ``events.RECHECK_S`` in case an event was lost.
    """
    deadline = time.monotonic() + seconds
    tasks = service.runtime.tasks
    while not TaskStatus(task.status).finished:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        with service.events.watch(task.id) as watch:
            # listening before the re-read: a finish between the two still wakes us
            fresh: Task | None = await run_in_threadpool(tasks.get, task.id)
            task = fresh or task
            if TaskStatus(task.status).finished:
                break
            await watch.wait(min(remaining, RECHECK_S))
    return task


async def wait_sync(service: Service, task: Task) -> Task:
    """Wait as a synchronous door does: up to the task timeout plus a little slack."""
    return await wait(service, task, service.runtime.settings.task_timeout_s + 5.0)


def timed_out(task: Task) -> ApiError:
    """What a synchronous door answers when its task is still unfinished after the wait."""
    return ApiError(504, ErrorCode.TIMEOUT, f"the task did not finish in time (task {task.id})")


# --- the caller's tasks ------------------------------------------------------------------


def find_task(
    service: Service,
    key: ApiKey,
    task_id: str,
    dialect: str | None = None,
    *,
    by_external_id: bool = False,
) -> Task | None:
    """Task ``task_id`` if it is ``key``'s (and came in by ``dialect``, when given).

    With ``by_external_id``, an id that names no task is also tried as the caller's own
    external id (Kling queries take either).
    """
    tasks = service.runtime.tasks
    task = tasks.get(task_id)
    if task is not None and task.key_id == key.id and dialect in (None, task.dialect):
        return task
    if by_external_id and dialect is not None:
        return tasks.find_external(key.id, dialect, task_id)
    return None


def own_task(service: Service, key: ApiKey, task_id: str, dialect: str | None = None) -> Task:
    """As :func:`find_task`, answering 404 when there is no such task for the caller."""
    task = find_task(service, key, task_id, dialect)
    if task is None:
        raise not_found(task_id)
    return task


def not_found(task_id: str) -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, f"there is no task {task_id!r} for this key")


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
    """Cancel the caller's queued task; 409 once it has started."""
    task = own_task(service, key, task_id)
    tasks = service.runtime.tasks
    if not tasks.cancel(task.id):
        current = tasks.get(task.id) or task
        raise ApiError(
            409,
            ErrorCode.TASK_NOT_CANCELABLE,
            f"the task is {current.status}; only a queued task can be canceled",
        )
    service.callbacks.wake()
    return tasks.get(task.id) or task


# --- views -------------------------------------------------------------------------------


def view(
    task: Task, service: Service, request: Request | None, *, with_data: bool = False
) -> TaskView:
    """The door-neutral view of ``task``: signed absolute result URLs, and with
    ``with_data`` the result bytes (for answers that carry base64)."""
    return view_for(task, service.runtime, service.public_base(request), with_data=with_data)


def view_for(task: Task, runtime: Runtime, base: str, *, with_data: bool = False) -> TaskView:
    """As :func:`view`, from the runtime alone (callbacks render outside a request)."""
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
        results=tuple(results),
        external_id=task.external_id,
        meta=dict(task.meta),
    )


def _result_bytes(runtime: Runtime, key: str) -> bytes:
    """A result's bytes; 404 when the blob is gone (expired, or removed by hand)."""
    try:
        return runtime.blobs.get(key)
    except BlobNotFoundError:
        raise ApiError(
            404, ErrorCode.NOT_FOUND, "the task's result is gone (results expire); run it again"
        ) from None


# --- errors ------------------------------------------------------------------------------


def current_request_id() -> str:
    """The id the middleware gave this request (every door echoes it back)."""
    return request_id.get() or uuid.uuid4().hex


def install_error_renderer(
    app: FastAPI,
    prefixes: tuple[str, ...],
    render: Callable[[ErrorInfo], tuple[int, dict[str, Any]]],
) -> None:
    """Errors under ``prefixes`` (validation, auth, rate, not found...) in the door's shape."""

    def renderer(info: ErrorInfo) -> Response:
        status, body = render(info)
        return JSONResponse(body, status_code=status, headers=info.headers)

    for prefix in prefixes:
        register_error_renderer(app, prefix, renderer)
