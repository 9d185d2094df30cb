"""Kling image expansion: a JSON task API with JWT auth, query by id or external id, lists.

Envelope ``{code, message, request_id, data}``; code 0 is success, else one of Kling's
numeric codes with its HTTP status. Timestamps are milliseconds since the epoch.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from canvasfill.api.auth import KlingJwt
from canvasfill.api.body import Body, BodyKind, body_cap
from canvasfill.api.dialects.fields import Field, FieldReader, Kind, fields_model
from canvasfill.api.door import (
    Account,
    Answer,
    Create,
    Door,
    GetTask,
    Incoming,
    ListTasks,
    Page,
    exhaustive,
    register,
    rows,
)
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.view import TaskView
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.errors import (
    DOWNLOAD_CODES,
    IMAGE_FILE_CODES,
    IMAGE_SIZE_CODES,
    MASK_CODES,
    SERVICE_ONLY_CODES,
    ErrorCode,
    InputError,
)
from canvasfill.imaging.limits import KLING
from canvasfill.jobs.submission import Notify, Submission
from canvasfill.jobs.tables import ApiKey
from canvasfill.pipeline.spec import MAX_IMAGES, JobSpec, OutputOptions, RatioExpansion

NAME = "kling"
PATH = "/v1/images/editing/expand"
COSTS_PATHS = ("/account/costs", "/v1/account/costs")
"""Resource-pack information (Kling's clients call it as a credential check; some
under ``/v1``)."""
NAMESPACES = ("/v1/images/editing/", "/account/", "/v1/account/costs")
"""Kling's own namespaces: unknown paths and wrong methods there answer in Kling's
envelope too (not all of ``/v1/images/``, which OpenAI's image API shares)."""
NEVER_MS = 4_102_444_800_000
"""Credits do not expire: the pack's ``invalid_time`` is 2100-01-01."""
UNLIMITED_QUANTITY = 2**31 - 1
"""What a key with unlimited credits reports as its resource pack's quantities."""
MAX_PROMPT = 2500
MAX_RATIO = 2.0
MAX_PAGE_NUM, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 1000, 500, 30
BODY_CAP = body_cap(KLING, images=1)
"""One base64 image (or a URL) and a few short fields."""
_RATIO_FIELDS = {
    "top": "up_expansion_ratio",
    "bottom": "down_expansion_ratio",
    "left": "left_expansion_ratio",
    "right": "right_expansion_ratio",
}

# Kling's codes: (code, HTTP status); auth refusals carry their own code (api/auth.py)
_PARAMETER_VALUE = (1201, 400)
_BY_CODE = exhaustive(
    rows(
        (
            (
                *IMAGE_FILE_CODES,
                *IMAGE_SIZE_CODES,
                *MASK_CODES,  # Kling takes no mask: listed for completeness
                *DOWNLOAD_CODES,
                *SERVICE_ONLY_CODES,
                ErrorCode.INVALID_PARAMETER,
                ErrorCode.PAYLOAD_TOO_LARGE,
                ErrorCode.WORKER_CRASHED,
                ErrorCode.INPUT_MISSING,
                # the reference says "unique within a single user account" and names no
                # code of its own: a reused id is an invalid parameter value
                ErrorCode.EXTERNAL_ID_TAKEN,
            ),
            _PARAMETER_VALUE,
        ),
        ((ErrorCode.UNAUTHORIZED,), (1000, 401)),
        ((ErrorCode.INSUFFICIENT_CREDITS,), (1102, 429)),
        (
            (
                ErrorCode.MISSING_PARAMETER,
                ErrorCode.INVALID_REQUEST,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                ErrorCode.BODY_TIMEOUT,
            ),
            (1200, 400),
        ),
        ((ErrorCode.NOT_FOUND,), (1203, 404)),
        ((ErrorCode.METHOD_NOT_ALLOWED,), (1202, 404)),
        ((ErrorCode.RATE_LIMITED,), (1302, 429)),
        ((ErrorCode.ENGINE_FAILED, ErrorCode.INTERNAL_ERROR), (5000, 500)),
        ((ErrorCode.TIMEOUT,), (5002, 504)),
        ((ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE), (5001, 503)),
    ),
    NAME,
)

STATUS_NAMES = {
    "queued": "submitted",
    "running": "processing",
    "succeeded": "succeed",
    "failed": "failed",
    "canceled": "failed",
}


IMAGE = Field(
    "image",
    Kind.TEXT,
    required=True,
    description="raw base64 (no data: prefix) or an http(s) URL; JPEG or PNG",
)
RATIOS = {
    side: Field(
        name,
        Kind.NUMBER,
        0.0,
        minimum=0.0,
        maximum=MAX_RATIO,
        description=f"growth of the {side} side as a fraction of the image's size",
    )
    for side, name in _RATIO_FIELDS.items()
}
N = Field("n", Kind.INTEGER, 1, minimum=1, maximum=MAX_IMAGES)
PROMPT = Field("prompt", Kind.TEXT, "", max_length=MAX_PROMPT)
EXTERNAL_TASK_ID = Field(
    "external_task_id", Kind.TEXT, "", max_length=200, description="unique per account"
)
CALLBACK_URL = Field("callback_url", Kind.TEXT, "", max_length=2048)
WATERMARK_INFO = Field("watermark_info", Kind.OBJECT, description='{"enabled": true|false}')
FIELDS = (IMAGE, *RATIOS.values(), N, PROMPT, WATERMARK_INFO, EXTERNAL_TASK_ID, CALLBACK_URL)


def parse(body: Any) -> Submission:
    if not isinstance(body, dict):
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "the request body must be a JSON object", field="body"
        )
    fields = FieldReader(body)
    image_bytes, image_url = _image(fields.text(IMAGE.name))
    ratios = {side: fields.read(field) for side, field in RATIOS.items()}
    if not any(ratios.values()):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "set at least one of up/down/left/right_expansion_ratio above 0",
            field="up_expansion_ratio",
        )
    watermark = body.get("watermark_info") or {}
    if not isinstance(watermark, dict) or not isinstance(watermark.get("enabled", False), bool):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            'watermark_info must be {"enabled": true} or {"enabled": false}',
            field="watermark_info",
        )
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=RatioExpansion(**ratios),
        seed=resolve_seed(None),
        n=fields.read(N),
        prompt=fields.read(PROMPT),
        output=OutputOptions(watermark=bool(watermark.get("enabled", False))),
        limits=NAME,
    )
    external_id = fields.read(EXTERNAL_TASK_ID) or None
    if external_id is not None and not external_id.isprintable():
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "external_task_id holds a control character; use printable text",
            field="external_task_id",
        )
    return Submission(
        dialect=NAME,
        notify_on=Notify.CHANGE,
        spec=spec,
        image=image_bytes,
        image_url=image_url,
        external_id=external_id,
        callback_url=fields.read(CALLBACK_URL) or None,
        meta={"watermark": bool(watermark.get("enabled", False))},
    )


def _image(text: str) -> tuple[bytes | None, str | None]:
    """``image`` is raw base64 (no ``data:`` prefix) or an http(s) URL."""
    value = text.strip()
    if not value:
        raise InputError(ErrorCode.MISSING_PARAMETER, "image is required", field="image")
    if value.startswith(("http://", "https://")):
        return None, value
    if value.startswith("data:"):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "image must be raw base64 without a 'data:image/...;base64,' prefix",
            field="image",
        )
    try:
        return base64.b64decode(value, validate=True), None
    except (binascii.Error, ValueError):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "image is neither valid base64 nor an http(s) URL",
            field="image",
        ) from None


def page(query: FieldReader) -> tuple[int, int]:
    """(pageNum, pageSize) of a list request: 1..1000 and 1..500, defaults 1 and 30."""
    number = query.integer("pageNum", 1, minimum=1, maximum=MAX_PAGE_NUM)
    size = query.integer("pageSize", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    return number, size


def _page(incoming: Incoming) -> Page:
    number, size = page(FieldReader(incoming.query))
    return Page(limit=size, offset=(number - 1) * size)


def _milliseconds(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def task_data(task: TaskView) -> dict[str, Any]:
    """The ``data`` object of a query answer, and of a callback."""
    images = [
        {"index": index, "url": result.url, "watermark_url": result.watermark_url}
        for index, result in enumerate(task.results)
    ]
    message = ""
    if task.status in ("failed", "canceled"):
        message = task.error_message or task.status
    return {
        "task_id": task.id,
        "task_status": STATUS_NAMES[task.status],
        "task_status_msg": message,
        "task_info": {"external_task_id": task.external_id},
        "task_result": {"images": images},
        "created_at": _milliseconds(task.created_at),
        "updated_at": _milliseconds(task.updated_at),
    }


def envelope(data: Any, request_id: str) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": request_id, "data": data}


def render_error(
    code: ErrorCode, message: str, request_id: str, kling_code: int | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for a canvasfill code; ``kling_code`` overrides Kling's code
    where the refusal already names one (its five auth failures)."""
    mapped, status = _BY_CODE[code]
    body = {
        "code": kling_code if kling_code is not None else mapped,
        "message": message,
        "request_id": request_id,
        "data": None,
    }
    return status, body


def costs_data(key: ApiKey) -> dict[str, Any]:
    """``data`` of ``/account/costs``: one pack, remaining = the key's credits."""
    remaining = UNLIMITED_QUANTITY if key.credits is None else key.credits
    pack = {
        "resource_pack_name": f"canvasfill credits ({key.name or key.id})",
        "resource_pack_id": key.id,
        "resource_pack_type": "constant_period",
        "total_quantity": remaining,
        "remaining_quantity": remaining,
        "purchase_time": _milliseconds(key.created_at),
        "effective_time": _milliseconds(key.created_at),
        "invalid_time": NEVER_MS,
        "status": "online" if remaining > 0 else "runout",
    }
    return {"code": 0, "msg": "", "resource_pack_subscribe_infos": [pack]}


def _answer(data: Any, incoming: Incoming) -> Answer:
    return Answer(envelope(data, incoming.request_id))


def _render_task(task: TaskView, incoming: Incoming) -> Answer:
    return _answer(task_data(task), incoming)


def _render_list(tasks: Sequence[TaskView], _page: Page, incoming: Incoming) -> Answer:
    return _answer([task_data(task) for task in tasks], incoming)


def _render_costs(key: ApiKey, incoming: Incoming) -> Answer:
    """The key's credits as one resource pack; ``start_time``/``end_time`` are accepted
    (a key's credits have no history to filter)."""
    query = FieldReader(incoming.query)
    query.optional_integer("start_time", minimum=0)
    query.optional_integer("end_time", minimum=0)
    return _answer(costs_data(key), incoming)


def _callback(task: TaskView, event: str) -> dict[str, Any]:
    """Kling's callback carries the ``data`` object a query returned at that change.

    Deliveries are sent after the fact (and retried), so a ``task.running`` event may go
    out when the task has already finished: it still reports ``processing``, no results.
    """
    status = event.removeprefix("task.")
    if status != task.status and status in STATUS_NAMES:
        task = replace(task, status=status, results=(), error_message=None)
    return task_data(task)


def _render_error(info: ErrorInfo, request_id: str) -> Answer:
    status, body = render_error(info.code, info.message, request_id, info.vendor_code)
    return Answer(body, status)


DOOR = register(
    Door(
        name=NAME,
        tag="kling",
        auth=KlingJwt(),
        operations=(
            Create(
                path=PATH,
                summary="Kling image expansion: create a task",
                body=Body(BodyKind.JSON, BODY_CAP),
                parse=lambda incoming: parse(incoming.json),
                render=_render_task,
                fields=fields_model("KlingImageExpansion", FIELDS),
            ),
            GetTask(
                path=PATH + "/{task_id}",
                summary="Kling image expansion: query one task (task_id or external_task_id)",
                render=_render_task,
                by_external_id=True,
            ),
            ListTasks(
                path=PATH,
                summary="Kling image expansion: list tasks, newest first",
                page=_page,
                render=_render_list,
            ),
            Account(
                paths=COSTS_PATHS,
                summary="Kling account: resource packs (the key's credits)",
                render=_render_costs,
            ),
        ),
        render_error=_render_error,
        namespaces=NAMESPACES,
        callback=_callback,
    )
)
