"""PicWish ``advanced-image-expand`` and its object-removal sibling ``inpaint``.

Tasks: create answers ``{status: 200, message: "success", data: {task_id}}`` (or the
finished task with ``sync=1``), the query answers the task: ``state`` 1 done, 0
queued, 4 processing, a negative code per failure; Unix-second timestamps; ``image``
a URL valid for an hour (``return_type`` 1) or base64 (2).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from canvasfill.api.auth import HeaderKey
from canvasfill.api.body import Body, BodyKind, body_cap
from canvasfill.api.dialects.fields import Field, FieldReader, Kind, fields_model
from canvasfill.api.door import (
    UNTIL_DONE,
    Answer,
    Create,
    Door,
    GetTask,
    Incoming,
    exhaustive,
    register,
    rows,
)
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.view import TaskView, require_image
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.errors import (
    DOWNLOAD_CODES,
    IMAGE_FILE_CODES,
    IMAGE_SIZE_CODES,
    MASK_CODES,
    SERVICE_ONLY_CODES,
    TASK_FAILURE_CODES,
    ErrorCode,
    InputError,
)
from canvasfill.imaging.limits import PICWISH
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.spec import (
    MAX_STEPS,
    Box,
    BoxRemoval,
    CanvasMask,
    JobSpec,
    MaskRemoval,
    RatioExpansion,
)

NAME = "picwish"
API_KEY_HEADER = "X-API-KEY"
PREFIX = "/api/tasks/"
"""Unknown paths and wrong methods under it answer in PicWish's body too."""
EXPAND_PATH = "/api/tasks/visual/advanced-image-expand"
INPAINT_PATH = "/api/tasks/visual/inpaint"
RATE_LIMIT_PER_SECOND = 2.0
SEED_RANDOM = frozenset({-1})
MAX_RECTANGLES = 50
MAX_PROMPT = 2500
"""The reference advises 'within 100 Chinese characters or English words' and names no
limit; longer than Kling's 2500 characters is refused."""
RETURN_URL, RETURN_BASE64 = 1, 2

STATE_DONE, STATE_QUEUED, STATE_PROCESSING = 1, 0, 4
_DOWNLOAD_FAILED = (-3, "source image download failed")
_FAILURE_STATES: dict[ErrorCode, tuple[int, str]] = {
    # every way a URL input can fail to arrive, refused ones included
    ErrorCode.DOWNLOAD_FAILED: _DOWNLOAD_FAILED,
    ErrorCode.URL_NOT_ALLOWED: _DOWNLOAD_FAILED,
    ErrorCode.DOWNLOAD_TOO_LARGE: _DOWNLOAD_FAILED,
    ErrorCode.DOWNLOAD_TIMEOUT: _DOWNLOAD_FAILED,
    ErrorCode.DOWNLOAD_TOO_MANY_REDIRECTS: _DOWNLOAD_FAILED,
    ErrorCode.FILE_TOO_LARGE: (-5, "image too large"),
    ErrorCode.IMAGE_TOO_LARGE: (-5, "image too large"),
    ErrorCode.DECOMPRESSION_BOMB: (-5, "image too large"),
    ErrorCode.CANVAS_TOO_LARGE: (-5, "image too large"),
    ErrorCode.INVALID_IMAGE: (-7, "invalid image file"),
    ErrorCode.TRUNCATED_IMAGE: (-7, "invalid image file"),
    ErrorCode.UNSUPPORTED_FORMAT: (-7, "invalid image file"),
    ErrorCode.ANIMATED_IMAGE: (-7, "invalid image file"),
    ErrorCode.IMAGE_TOO_SMALL: (-7, "invalid image file"),
    ErrorCode.INVALID_MASK: (-7, "invalid image file"),
    ErrorCode.MASK_SIZE_MISMATCH: (-7, "invalid image file"),
    ErrorCode.EMPTY_MASK: (-7, "invalid image file"),
    ErrorCode.FULL_MASK: (-7, "invalid image file"),
    ErrorCode.TIMEOUT: (-8, "processing timeout"),
}
_CANCELED = (-13, "canceled")
_INTERNAL = (-9, "internal failure")

_HTTP_BY_CODE = exhaustive(
    rows(
        (
            (
                *IMAGE_FILE_CODES,
                *IMAGE_SIZE_CODES,
                *MASK_CODES,
                *DOWNLOAD_CODES,
                *TASK_FAILURE_CODES,
                *SERVICE_ONLY_CODES,
                ErrorCode.MISSING_PARAMETER,
                ErrorCode.INVALID_PARAMETER,
                ErrorCode.INVALID_REQUEST,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                ErrorCode.EXTERNAL_ID_TAKEN,
            ),
            400,
        ),
        ((ErrorCode.FILE_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE), 413),
        ((ErrorCode.UNAUTHORIZED,), 401),
        ((ErrorCode.NOT_FOUND,), 404),
        ((ErrorCode.METHOD_NOT_ALLOWED,), 405),
        ((ErrorCode.RATE_LIMITED,), 429),
        # not 429, which PicWish clients retry (its reference names no status for it):
        # 402 is final, and 429 stays the rate limit's, always with Retry-After
        ((ErrorCode.INSUFFICIENT_CREDITS,), 402),
        ((ErrorCode.INTERNAL_ERROR,), 500),
        ((ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE), 503),
        ((ErrorCode.BODY_TIMEOUT,), 408),
    ),
    NAME,
)


# --- the fields, as the reference declares them -------------------------------------------

IMAGE_FILE = Field("image_file", Kind.FILE, description="JPG or PNG, 64..4096 px a side")
IMAGE_URL = Field("image_url", Kind.TEXT, "", max_length=512, description="if no image_file")
MASK_FILE = Field("mask_file", Kind.FILE, description="white = fill")
MASK_URL = Field("mask_url", Kind.TEXT, "", max_length=512, description="if no mask_file")
RETURN_TYPE = Field(
    "return_type", Kind.INTEGER, RETURN_URL, minimum=1, maximum=2, description="1 URL, 2 base64"
)
SYNC = Field("sync", Kind.INTEGER, 0, minimum=0, maximum=1, description="1: answer the result")
SEED = Field("seed", Kind.INTEGER, -1, minimum=-1, description="-1: random")
SIDES = tuple(
    Field(
        side,
        Kind.NUMBER,
        0.1,
        minimum=0.0,
        maximum=1.0,
        minimum_exclusive=True,
        description=f"growth of the {side} side as a fraction of the image's size",
    )
    for side in ("top", "bottom", "left", "right")
)
PROMPT = Field("prompt", Kind.TEXT, "", max_length=MAX_PROMPT)
STRENGTH = Field("strength", Kind.NUMBER, minimum=0.0, maximum=1.0)
SCALE = Field("scale", Kind.NUMBER, 7.0, minimum=1.0, maximum=20.0)
# left out: the engine's default
STEPS = Field("steps", Kind.INTEGER, minimum=1, maximum=MAX_STEPS)
RECTANGLES = Field(
    "rectangles",
    Kind.TEXT,
    "",
    description=f'JSON list of up to {MAX_RECTANGLES} {{"x", "y", "width", "height"}}',
)
INPUTS = (IMAGE_FILE, IMAGE_URL, MASK_FILE, MASK_URL, RETURN_TYPE, SYNC, SEED)
EXPAND_FIELDS = (*INPUTS, *SIDES, PROMPT, STRENGTH, SCALE, STEPS)
INPAINT_FIELDS = (*INPUTS, RECTANGLES)


def _common(fields: FieldReader) -> dict[str, Any]:
    return {"return_type": fields.read(RETURN_TYPE), "sync": fields.read(SYNC)}


def _inputs(
    fields: FieldReader, image: bytes | None, mask: bytes | None
) -> tuple[str | None, str | None]:
    """URLs are used only where no file was sent (a file wins)."""
    image_url = None if image is not None else fields.read(IMAGE_URL) or None
    mask_url = None if mask is not None else fields.read(MASK_URL) or None
    require_image(image, image_url, names="image_file or image_url")
    return image_url, mask_url


def parse_expand(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    image_url, mask_url = _inputs(fields, image, mask)
    canvas_mode = mask is not None or mask_url is not None
    geometry: CanvasMask | RatioExpansion
    if canvas_mode:
        geometry = CanvasMask()
    else:
        geometry = RatioExpansion(**{side.name: fields.read(side) for side in SIDES})
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=geometry,
        seed=resolve_seed(fields.read(SEED), SEED_RANDOM),
        prompt=fields.read(PROMPT),
        strength=fields.read(STRENGTH),
        guidance_scale=fields.read(SCALE),
        steps=fields.read(STEPS),
        limits=NAME,
    )
    return _submission(spec, fields, image, image_url, mask, mask_url)


def parse_inpaint(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    image_url, mask_url = _inputs(fields, image, mask)
    has_mask = mask is not None or mask_url is not None
    geometry: MaskRemoval | BoxRemoval
    if fields.present("rectangles") and not has_mask:
        geometry = BoxRemoval(boxes=_rectangles(fields.raw("rectangles")))
    elif has_mask:
        geometry = MaskRemoval()
    else:
        raise InputError(
            ErrorCode.MISSING_PARAMETER,
            "mask_file, mask_url or rectangles is required",
            field="mask_file",
        )
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=geometry,
        seed=resolve_seed(fields.read(SEED), SEED_RANDOM),
        limits=NAME,
    )
    return _submission(spec, fields, image, image_url, mask, mask_url)


def _submission(
    spec: JobSpec,
    fields: FieldReader,
    image: bytes | None,
    image_url: str | None,
    mask: bytes | None,
    mask_url: str | None,
) -> Submission:
    return Submission(
        spec=spec,
        image=image,
        image_url=image_url,
        mask=mask,
        mask_url=mask_url,
        dialect=NAME,
        meta=_common(fields),
    )


def _rectangles(raw: Any) -> tuple[Box, ...]:
    """``rectangles``: a JSON list of up to 50 ``{x, y, width, height}`` objects."""
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list) or not items:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            'rectangles must be a JSON list like [{"x": 0, "y": 0, "width": 10, "height": 10}]',
            field="rectangles",
        )
    if len(items) > MAX_RECTANGLES:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"rectangles holds {len(items)} boxes; at most {MAX_RECTANGLES} are allowed",
            field="rectangles",
        )
    boxes = []
    for index, item in enumerate(items):
        reader = FieldReader(item if isinstance(item, dict) else {})
        try:
            boxes.append(
                Box(
                    x=reader.integer("x", None, minimum=0),
                    y=reader.integer("y", None, minimum=0),
                    width=reader.integer("width", None, minimum=1),
                    height=reader.integer("height", None, minimum=1),
                )
            )
        except InputError as exc:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"rectangles[{index}]: {exc.message}",
                field="rectangles",
            ) from None
    return tuple(boxes)


def state_of(task: TaskView) -> tuple[int, str]:
    """PicWish's ``state`` and ``state_detail`` for a task."""
    if task.status == "succeeded":
        return STATE_DONE, "completed"
    if task.status == "queued":
        return STATE_QUEUED, "queued"
    if task.status == "running":
        return STATE_PROCESSING, "processing"
    if task.status == "canceled":
        return _CANCELED
    state, detail = (
        _FAILURE_STATES.get(task.error_code, _INTERNAL) if task.error_code else _INTERNAL
    )
    return state, f"{detail}: {task.error_message}" if task.error_message else detail


def _seconds(moment: Any) -> int | None:
    return None if moment is None else int(moment.timestamp())


def render_task(task: TaskView, return_type: int) -> dict[str, Any]:
    state, detail = state_of(task)
    data: dict[str, Any] = {
        "task_id": task.id,
        "created_at": _seconds(task.created_at),
        "processed_at": _seconds(task.started_at),
        "completed_at": _seconds(task.finished_at),
        "return_type": return_type,
        "progress": task.progress,
        "state": state,
        "state_detail": detail,
    }
    if task.started_at and task.finished_at:
        elapsed = (task.finished_at - task.started_at).total_seconds()
        data["time_elapsed"] = f"{elapsed:.3f}"
    if state == STATE_DONE and task.results:
        if return_type == RETURN_URL:
            images = [result.url for result in task.results]
        else:
            images = [base64.b64encode(data).decode("ascii") for data in task.result_data()]
        data["image"] = images[0]
        if len(images) > 1:
            data.update({f"image_{index}": image for index, image in enumerate(images, 1)})
    return {"status": 200, "message": "success", "data": data}


def render_created(task_id: str) -> dict[str, Any]:
    return {"status": 200, "message": "success", "data": {"task_id": task_id}}


def render_error(code: ErrorCode, message: str) -> tuple[int, dict[str, Any]]:
    status = _HTTP_BY_CODE[code]
    return status, {"status": status, "message": message}


BODY_CAP = body_cap(PICWISH)
JSON_FILES = {"image_file": "image_file", "image": "image_file", "mask_file": "mask_file"}
JSON_FILES |= {"mask": "mask_file"}
"""A JSON body carries the files as base64, under the form's names or the short ones."""


def _return_type(meta: dict[str, Any]) -> int:
    return int(meta.get("return_type", RETURN_URL))


def _synchronous(submission: Submission) -> bool:
    return bool(submission.meta["sync"])


def _wait(_incoming: Incoming, submission: Submission) -> float:
    return UNTIL_DONE if _synchronous(submission) else 0.0


def _render_created(task: TaskView, incoming: Incoming) -> Answer:
    """``sync=0``: the task id; ``sync=1``: the task as it is after the wait."""
    if not task.meta.get("sync"):
        return Answer(render_created(task.id))
    return _render_task(task, incoming)


def _render_task(task: TaskView, _incoming: Incoming) -> Answer:
    return Answer(render_task(task, _return_type(task.meta)))


def _render_error(info: ErrorInfo, _request_id: str) -> Answer:
    status, body = render_error(info.code, info.message)
    return Answer(body, status)


Parser = Callable[[FieldReader, bytes | None, bytes | None], Submission]


def _create(path: str, summary: str, parser: Parser, fields: type[BaseModel]) -> Create:
    def parse(incoming: Incoming) -> Submission:
        files = incoming.files
        fields = FieldReader(incoming.fields)
        return parser(fields, files.get("image_file"), files.get("mask_file"))

    return Create(
        path=path,
        summary=summary,
        body=Body(BodyKind.FORM_OR_JSON, BODY_CAP, base64_files=JSON_FILES),
        parse=parse,
        render=_render_created,
        wait_s=_wait,
        joins_repeats=_synchronous,
        with_data=lambda submission: _return_type(submission.meta) == RETURN_BASE64,
        fields=fields,
    )


def _query(path: str, summary: str) -> GetTask:
    return GetTask(
        path=path + "/{task_id}",
        summary=summary,
        render=_render_task,
        with_data=lambda meta: _return_type(meta) == RETURN_BASE64,
    )


DOOR = register(
    Door(
        name=NAME,
        tag="picwish",
        auth=HeaderKey(name="picwishKey", header=API_KEY_HEADER),
        operations=(
            _create(
                EXPAND_PATH,
                "PicWish advanced image expand: create a task",
                parse_expand,
                fields_model("PicwishAdvancedImageExpand", EXPAND_FIELDS),
            ),
            _query(EXPAND_PATH, "PicWish advanced image expand: query a task"),
            _create(
                INPAINT_PATH,
                "PicWish inpaint (object removal): create a task",
                parse_inpaint,
                fields_model("PicwishInpaint", INPAINT_FIELDS),
            ),
            _query(INPAINT_PATH, "PicWish inpaint: query a task"),
        ),
        render_error=_render_error,
        namespaces=(PREFIX,),
        rate_per_second=RATE_LIMIT_PER_SECOND,
    )
)
