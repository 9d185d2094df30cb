"""The native API (``/v1``): expand, remove, and the caller's tasks.

A request is JSON (``image`` as base64 or ``image_url``) or multipart (``image`` as a
file; ``ratios``/``pixels``/``rectangles`` as JSON text). Both become one
``NativeRequest``, then one ``JobSpec``; the task is accepted (202), or with
``Prefer: wait=N`` awaited for up to N seconds (200 when it finished).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from canvasfill.api.auth import require_key
from canvasfill.api.errors import ApiCode, ApiError
from canvasfill.api.render import native_task
from canvasfill.api.service import Service, get_service, own_task, wait_for_finish
from canvasfill.engines.base import SEED_MAX, Operation, resolve_seed
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.imaging.limits import NATIVE
from canvasfill.jobs.accept import Submission, accept, fingerprint
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.models import ApiKey, Task, TaskStatus
from canvasfill.jobs.spec import (
    MAX_IMAGES,
    Box,
    BoxRemoval,
    CanvasMask,
    Geometry,
    JobSpec,
    MaskRemoval,
    OutputOptions,
    PixelExpansion,
    RatioExpansion,
)
from canvasfill.jobs.store import (
    NOTIFY_CHANGE,
    NOTIFY_FINISH,
    Idempotency,
    IdempotencyConflictError,
)

MAX_WAIT_S = 60
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)
MAX_BODY_BYTES = 2 * NATIVE.max_bytes + 2**20
"""Two images (image and mask), base64 overhead included, plus room for the fields."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ratios(_Request):
    """Growth of each side as a fraction of the original's width (left/right) or height."""

    left: float = Field(0, ge=0, le=10)
    right: float = Field(0, ge=0, le=10)
    top: float = Field(0, ge=0, le=10)
    bottom: float = Field(0, ge=0, le=10)


class Pixels(_Request):
    left: int = Field(0, ge=0, le=8192)
    right: int = Field(0, ge=0, le=8192)
    top: int = Field(0, ge=0, le=8192)
    bottom: int = Field(0, ge=0, le=8192)


class Rectangle(_Request):
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class NativeRequest(_Request):
    """The body of ``POST /v1/expand`` and ``POST /v1/remove``."""

    image: str | None = Field(None, description="base64 image (a data: URL prefix is fine)")
    image_url: str | None = Field(None, description="http(s) URL the image is fetched from")
    mask: str | None = Field(
        None, description="base64 mask (white = fill): removal, or expansion in canvas mode"
    )
    mask_url: str | None = None
    ratios: Ratios | None = Field(None, description="expand: growth per side, fractions")
    pixels: Pixels | None = Field(None, description="expand: growth per side, pixels")
    rectangles: list[Rectangle] | None = Field(
        None, max_length=50, description="remove: what lies in these boxes"
    )
    grow: int = Field(0, ge=0, le=256, description="remove: widen the mask by this many px")
    prompt: str = Field("", max_length=2500)
    negative_prompt: str = Field("", max_length=2500)
    seed: int | None = Field(None, ge=-1, le=SEED_MAX, description="absent or -1: random")
    steps: int | None = Field(None, ge=1, le=200)
    strength: float | None = Field(None, ge=0, le=1)
    guidance_scale: float | None = Field(None, ge=0, le=50)
    n: int = Field(1, ge=1, le=MAX_IMAGES)
    output_format: str = "png"
    quality: int | None = Field(None, ge=1, le=100)
    max_width: int = Field(0, ge=0)
    max_height: int = Field(0, ge=0)
    engine: str | None = None
    callback_url: str | None = None
    callback_events: Literal["finish", "change"] = "finish"


def _request_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI request body (JSON or multipart) and the schemas it refers to."""
    schema = NativeRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    multipart = {
        "type": "object",
        "properties": {
            **schema["properties"],
            "image": {"type": "string", "format": "binary"},
            "mask": {"type": "string", "format": "binary"},
        },
    }
    body = {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "multipart/form-data": {"schema": multipart},
        },
    }
    return body, defs


REQUEST_BODY, REQUEST_SCHEMAS = _request_schema()


router = APIRouter(prefix="/v1", tags=["native"])

Caller = Annotated[ApiKey, Depends(require_key)]
ServiceDep = Annotated[Service, Depends(get_service)]


@router.post("/expand", status_code=202, openapi_extra={"requestBody": REQUEST_BODY})
async def expand(request: Request, key: Caller, service: ServiceDep) -> JSONResponse:
    """Expand (outpaint) an image: by side ratios, side pixels, or a canvas and a mask."""
    return await _create(request, key, service, Operation.EXPAND)


@router.post("/remove", status_code=202, openapi_extra={"requestBody": REQUEST_BODY})
async def remove(request: Request, key: Caller, service: ServiceDep) -> JSONResponse:
    """Remove what a mask or rectangles mark, filling it from the surroundings."""
    return await _create(request, key, service, Operation.REMOVE)


@router.get("/tasks/{task_id}")
def get_task(task_id: str, request: Request, key: Caller, service: ServiceDep) -> dict[str, Any]:
    """One of the caller's tasks."""
    return native_task(
        own_task(service, key, task_id), service.runtime, service.public_base(request)
    )


@router.get("/tasks")
def list_tasks(
    request: Request,
    key: Caller,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The caller's tasks, newest first; pass ``next_cursor`` back as ``cursor`` for more."""
    before = _decode_cursor(cursor) if cursor else None
    tasks = service.runtime.tasks.list_for_key(key.id, limit + 1, before_seq=before)
    page, more = tasks[:limit], len(tasks) > limit
    base = service.public_base(request)
    return {
        "data": [native_task(task, service.runtime, base) for task in page],
        "next_cursor": _encode_cursor(page[-1].seq) if more and page else None,
    }


@router.delete("/tasks/{task_id}")
def cancel_task(task_id: str, request: Request, key: Caller, service: ServiceDep) -> dict[str, Any]:
    """Cancel a task that has not started yet (409 once it has)."""
    task = own_task(service, key, task_id)
    if not service.runtime.tasks.cancel(task.id):
        current = service.runtime.tasks.get(task.id) or task
        raise ApiError(
            409,
            ApiCode.TASK_NOT_CANCELABLE,
            f"the task is {current.status}; only a queued task can be canceled",
        )
    canceled = service.runtime.tasks.get(task.id) or task
    service.callbacks.wake()
    return native_task(canceled, service.runtime, service.public_base(request))


@router.get("/account")
def account(key: Caller) -> dict[str, Any]:
    """The calling key: its name, credits left (null: unlimited) and webhook secret."""
    return {
        "id": key.id,
        "name": key.name,
        "credits": key.credits,
        "webhook_secret": key.webhook_secret,
    }


# --- creating ------------------------------------------------------------------------


async def _create(
    request: Request, key: ApiKey, service: Service, operation: Operation
) -> JSONResponse:
    body, image, mask = await _read_request(request)
    submission = _submission(body, image, mask, operation, service)
    idempotency = _idempotency(request, operation, body, image, mask)
    task = await run_in_threadpool(_accept, service, key, submission, idempotency)
    service.dispatcher.submit(task.id)
    wait = _prefer_wait(request)
    headers = {"Location": f"/v1/tasks/{task.id}"}
    if wait:
        headers["Preference-Applied"] = f"wait={wait}"
        task = await wait_for_finish(service, task, wait)
    status = 200 if TaskStatus(task.status).finished else 202
    content = native_task(task, service.runtime, service.public_base(request))
    return JSONResponse(content, status_code=status, headers=headers)


def _accept(
    service: Service, key: ApiKey, submission: Submission, idempotency: Idempotency | None
) -> Task:
    try:
        task, _created = accept(service.runtime, key, submission, idempotency)
    except InsufficientCreditsError as exc:
        raise ApiError(
            402,
            ApiCode.INSUFFICIENT_CREDITS,
            f"{exc}; ask for fewer images or add credits to the key",
        ) from None
    except IdempotencyConflictError:
        raise ApiError(
            422,
            ApiCode.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used with a different request; use a new key",
            field="Idempotency-Key",
        ) from None
    return task


async def _read_request(request: Request) -> tuple[NativeRequest, bytes | None, bytes | None]:
    """The parsed body and the decoded image and mask bytes (None where not sent)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    if content_type == "application/json":
        try:
            raw = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _invalid("the body is not valid JSON", None) from None
        if not isinstance(raw, dict):
            raise _invalid("the JSON body must be an object", None)
        body = _validate(raw)
        image = _base64(body.image, "image") if body.image else None
        mask = _base64(body.mask, "mask") if body.mask else None
        return body, image, mask
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=NATIVE.max_bytes)
        fields: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if value.size is not None and value.size > NATIVE.max_bytes:
                    raise _too_large()
                files[name] = await value.read()
            elif name in ("ratios", "pixels", "rectangles"):
                try:
                    fields[name] = json.loads(value)
                except json.JSONDecodeError:
                    raise _invalid(f"{name} must be JSON text in a form field", name) from None
            elif value != "":
                fields[name] = value
        body = _validate(fields)
        image = files.get("image") or (_base64(body.image, "image") if body.image else None)
        mask = files.get("mask") or (_base64(body.mask, "mask") if body.mask else None)
        return body, image, mask
    raise ApiError(
        415,
        ApiCode.INVALID_REQUEST,
        "send the request as application/json or multipart/form-data",
    )


def _too_large() -> ApiError:
    return ApiError(
        413,
        ApiCode.PAYLOAD_TOO_LARGE,
        f"the request is too large; images may be at most {NATIVE.max_bytes // 2**20} MB",
    )


def _validate(raw: dict[str, Any]) -> NativeRequest:
    try:
        return NativeRequest.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise _invalid(f"{where}: {problem['msg']}", where or None) from None


def _base64(text: str, field: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{field} is not valid base64", field) from None


def _invalid(message: str, field: str | None) -> InputError:
    return InputError(ErrorCode.INVALID_PARAMETER, message, field=field)


def _submission(
    body: NativeRequest,
    image: bytes | None,
    mask: bytes | None,
    operation: Operation,
    service: Service,
) -> Submission:
    settings = service.runtime.settings
    if (image is None) == (body.image_url is None):
        raise _invalid("send exactly one of image (file or base64) and image_url", "image")
    if mask is not None and body.mask_url is not None:
        raise _invalid("send at most one of mask and mask_url", "mask")
    has_mask = mask is not None or body.mask_url is not None
    spec = JobSpec(
        operation=operation,
        geometry=_geometry(body, operation, has_mask),
        seed=resolve_seed(None if body.seed == -1 else body.seed),
        engine=body.engine or settings.default_engine,
        n=body.n,
        prompt=body.prompt,
        negative_prompt=body.negative_prompt,
        steps=body.steps,
        strength=body.strength,
        guidance_scale=body.guidance_scale,
        output=_output(body),
        limits=NATIVE.name,
    )
    return Submission(
        spec=spec,
        image=image,
        image_url=body.image_url,
        mask=mask,
        mask_url=body.mask_url,
        callback_url=body.callback_url,
        notify_on=NOTIFY_CHANGE if body.callback_events == "change" else NOTIFY_FINISH,
    )


def _geometry(body: NativeRequest, operation: Operation, has_mask: bool) -> Geometry:
    if operation is Operation.EXPAND:
        given = [name for name, on in (("ratios", body.ratios), ("pixels", body.pixels)) if on]
        if has_mask:
            given.append("mask")
        if len(given) != 1 or body.rectangles:
            raise _invalid(
                "say how to expand with exactly one of ratios, pixels, or mask (canvas mode)",
                given[1] if len(given) > 1 else "ratios",
            )
        if body.ratios is not None:
            return RatioExpansion(**body.ratios.model_dump())
        if body.pixels is not None:
            return PixelExpansion(**body.pixels.model_dump())
        return CanvasMask()
    if body.ratios is not None or body.pixels is not None:
        raise _invalid("ratios and pixels belong to /v1/expand, not /v1/remove", "ratios")
    if has_mask == bool(body.rectangles):
        raise _invalid("say what to remove with exactly one of mask and rectangles", "mask")
    if body.rectangles:
        boxes = tuple(Box(**rect.model_dump()) for rect in body.rectangles)
        return BoxRemoval(boxes=boxes, grow=body.grow)
    return MaskRemoval(grow=body.grow)


def _output(body: NativeRequest) -> OutputOptions:
    options: dict[str, Any] = {
        "format": OutputFormat.parse(body.output_format),
        "max_width": body.max_width,
        "max_height": body.max_height,
    }
    if body.quality is not None:
        options["quality"] = body.quality
    return OutputOptions(**options)


def _idempotency(
    request: Request,
    operation: Operation,
    body: NativeRequest,
    image: bytes | None,
    mask: bytes | None,
) -> Idempotency | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255:
        raise _invalid("Idempotency-Key must be 1 to 255 characters", "Idempotency-Key")
    fields = body.model_dump(exclude={"image", "mask"})
    fields["operation"] = operation.value
    return Idempotency(key=key, fingerprint=fingerprint(fields, image, mask))


def _prefer_wait(request: Request) -> int:
    match = _PREFER_WAIT.search(request.headers.get("prefer", ""))
    return min(int(match.group(1)), MAX_WAIT_S) if match else 0


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "seq" or not number.isdigit():
            raise ValueError(cursor)
        return int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise _invalid("cursor is not one this API handed out", "cursor") from None
