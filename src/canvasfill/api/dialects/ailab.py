"""AILabTools: ``ai-image-extender`` and ``remove-objects-advanced``, synchronous multipart.

Every answer, success or error, carries the public fields (``request_id``, ``log_id``,
``error_code`` = 0 or the HTTP status, ``error_code_str``, ``error_msg``,
``error_detail``); a success adds ``data.binary_data_base64``, a list of one image.
Image problems answer 422 with an image-size or image-format code; everything else
follows the error table in ``compat-notes.md``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from canvasfill.api import doors
from canvasfill.api.auth import authorize
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.service import Service, get_service
from canvasfill.api.view import TaskView, output_format_of, require_image
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.limits import AILAB
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import TaskStatus
from canvasfill.pipeline.spec import (
    MAX_OUTPUT_SIDE,
    MAX_STEPS,
    CanvasMask,
    JobSpec,
    MaskRemoval,
    OutputOptions,
    RatioExpansion,
)

NAME = "ailab"
API_KEY_HEADER = "ailabapi-api-key"
PREFIX = "/api/image/"
"""Unknown paths and wrong methods under it answer in AILab's body too."""
EXPAND_PATH = "/api/image/editing/ai-image-extender"
REMOVE_PATH = "/api/image/editing/remove-objects-advanced"

SEED_RANDOM = frozenset({-1})
DEFAULT_RATIO = 0.1
DEFAULT_MAX_SIDE = 1920
PROMPT_WORDS = 100
"""The reference: 'limit the prompt to 100 English words or fewer. Any content beyond
this limit may have minimal impact': longer prompts are accepted, the tail dropped."""
MAX_PROMPT_CHARACTERS = 10_000
"""Past this a prompt is not a long prompt but a mistake (or an attack): refused."""

# (HTTP status, error_detail.code, code_message) for canvasfill's own codes
_IMAGE_SIZE = (422, "ERROR_IMAGE_SIZE", "The image size does not meet the requirements.")
_IMAGE_FORMAT = (422, "ERROR_IMAGE_FORMAT", "The image format does not meet the requirements.")
_NO_SUCH_AI = "AI does not exist or has been deactivated."
_INVALID = (400, "ERROR_INVALID_PARAMETER", "Invalid parameter.")
_BY_CODE: dict[ErrorCode, tuple[int, str, str]] = {
    ErrorCode.MISSING_PARAMETER: (400, "MISSING_PARAMETERS", "Missing parameters."),
    ErrorCode.INVALID_PARAMETER: _INVALID,
    ErrorCode.INVALID_MASK: _INVALID,
    ErrorCode.MASK_SIZE_MISMATCH: _INVALID,
    ErrorCode.MASK_HAS_ICC_PROFILE: _INVALID,
    ErrorCode.EMPTY_MASK: (400, "PARAMETERS_CANNOT_EMPTY", "Parameters cannot be empty."),
    ErrorCode.FULL_MASK: _INVALID,
    ErrorCode.FILE_TOO_LARGE: _IMAGE_SIZE,
    ErrorCode.IMAGE_TOO_SMALL: _IMAGE_SIZE,
    ErrorCode.IMAGE_TOO_LARGE: _IMAGE_SIZE,
    ErrorCode.DECOMPRESSION_BOMB: _IMAGE_SIZE,
    ErrorCode.ASPECT_RATIO_OUT_OF_RANGE: _IMAGE_SIZE,
    ErrorCode.CANVAS_TOO_LARGE: _IMAGE_SIZE,
    ErrorCode.INVALID_IMAGE: _IMAGE_FORMAT,
    ErrorCode.TRUNCATED_IMAGE: _IMAGE_FORMAT,
    ErrorCode.UNSUPPORTED_FORMAT: _IMAGE_FORMAT,
    ErrorCode.ANIMATED_IMAGE: _IMAGE_FORMAT,
    ErrorCode.PAYLOAD_TOO_LARGE: _IMAGE_SIZE,
    ErrorCode.UNAUTHORIZED: (
        401,
        "ERROR_APPLICATIONS_NOT_EXISTS",
        "The application does not exist.",
    ),
    ErrorCode.INSUFFICIENT_CREDITS: (429, "ERROR_NOT_ENOUGH_CREDITS", "Insufficient credits."),
    ErrorCode.RATE_LIMITED: (429, "ERROR_TOO_MANY_REQUESTS", "Too many requests."),
    ErrorCode.NOT_FOUND: (404, "ERROR_AI_NOT_EXISTS", _NO_SUCH_AI),
    ErrorCode.METHOD_NOT_ALLOWED: (405, "ERROR_AI_NOT_EXISTS", _NO_SUCH_AI),
    ErrorCode.STORAGE_UNAVAILABLE: (503, "PROCESSING_FAILURE", "Processing failed."),
    ErrorCode.BODY_TIMEOUT: (408, "PROCESSING_FAILURE", "Processing failed."),
}
_PROCESSING_FAILURE = (400, "PROCESSING_FAILURE", "Processing failed.")


def _common(fields: FieldReader) -> dict[str, Any]:
    """The diffusion parameters both endpoints share, with the reference's ranges."""
    return {
        # left out: each engine's own default (30 for SD and SDXL, as hosted; 4 for patch,
        # whose steps are EM iterations: 30 would cost it 2-3x the time for nothing)
        "steps": fields.optional_integer("steps", minimum=1, maximum=MAX_STEPS),
        "strength": fields.number("strength", 0.8, minimum=0.1, maximum=1.0),
        "guidance_scale": fields.number("scale", 7.0, minimum=1.0, maximum=20.0),
        "seed": resolve_seed(fields.integer("seed", 0, minimum=-1), SEED_RANDOM),
    }


def parse_expand(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    """``ai-image-extender``: four side ratios (0..1, default 0.1) or a canvas + mask."""
    require_image(image, None, names="image")
    assert image is not None
    common = _common(fields)
    max_width = fields.integer("max_width", DEFAULT_MAX_SIDE, minimum=0, maximum=MAX_OUTPUT_SIDE)
    max_height = fields.integer("max_height", DEFAULT_MAX_SIDE, minimum=0, maximum=MAX_OUTPUT_SIDE)
    geometry: CanvasMask | RatioExpansion
    if mask is not None:
        geometry = CanvasMask()
    else:
        ratios = {
            side: fields.number(side, DEFAULT_RATIO, minimum=0.0, maximum=1.0)
            for side in ("top", "bottom", "left", "right")
        }
        if not any(ratios.values()):
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                "top, bottom, left and right are all 0: expand at least one side",
                field="top",
            )
        geometry = RatioExpansion(**ratios)
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=geometry,
        prompt=_prompt(fields),
        output=OutputOptions(
            format=output_format_of(image), max_width=max_width, max_height=max_height
        ),
        limits=NAME,
        strict_mask=True,
        **common,
    )
    return Submission(spec=spec, image=image, mask=mask, dialect=NAME)


def _prompt(fields: FieldReader) -> str:
    """``custom_prompt``: its first 100 words (as hosted, the tail has no effect)."""
    text = fields.text("custom_prompt", max_length=MAX_PROMPT_CHARACTERS)
    words = text.split()
    return " ".join(words[:PROMPT_WORDS]) if len(words) > PROMPT_WORDS else text


def parse_remove(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    """``remove-objects-advanced``: an image and a mask (white = remove), both required."""
    require_image(image, None, names="image")
    if mask is None:
        raise InputError(ErrorCode.MISSING_PARAMETER, "mask is required", field="mask")
    assert image is not None
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=MaskRemoval(),
        output=OutputOptions(format=output_format_of(image)),
        limits=NAME,
        strict_mask=True,
        **_common(fields),
    )
    return Submission(spec=spec, image=image, mask=mask, dialect=NAME)


def _envelope(
    request_id: str, status: int, code: str, code_message: str, message: str
) -> dict[str, Any]:
    failed = status != 200
    return {
        "request_id": request_id,
        "log_id": uuid.uuid4().hex[:16],
        "error_code": status if failed else 0,
        "error_code_str": code if failed else "",
        "error_msg": f"{code_message} {message}".strip() if failed else "",
        "error_detail": {
            "status_code": status,
            "code": code,
            "code_message": code_message,
            "message": message,
        },
    }


def render_success(task: TaskView, request_id: str) -> dict[str, Any]:
    body = _envelope(request_id, 200, "", "", "")
    images = [base64.b64encode(data).decode("ascii") for data in task.result_data()[:1]]
    body["data"] = {"binary_data_base64": images}
    return body


def render_error(code: ErrorCode, message: str, request_id: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for a canvasfill error code."""
    status, detail_code, code_message = _BY_CODE.get(code, _PROCESSING_FAILURE)
    return status, _envelope(request_id, status, detail_code, code_message, message)


def render_task(task: TaskView, request_id: str) -> tuple[int, dict[str, Any]]:
    """A finished task as AILabTools answers it: the image, or the failure's error body."""
    if task.status == "succeeded":
        return 200, render_success(task, request_id)
    code = task.error_code or ErrorCode.ENGINE_FAILED
    return render_error(code, task.error_message or "", request_id)


# --- routes ------------------------------------------------------------------------------

router = APIRouter(tags=["ailab"])
ServiceDep = Annotated[Service, Depends(get_service)]
Parser = Callable[[FieldReader, bytes | None, bytes | None], Submission]


@router.post(EXPAND_PATH, summary="AILabTools AI Image Extender (synchronous)")
async def image_extender(request: Request, service: ServiceDep) -> Response:
    return await _run(request, service, parse_expand)


@router.post(REMOVE_PATH, summary="AILabTools Remove Objects Advanced (synchronous)")
async def remove_objects(request: Request, service: ServiceDep) -> Response:
    return await _run(request, service, parse_remove)


async def _run(request: Request, service: Service, parser: Parser) -> Response:
    token = request.headers.get(API_KEY_HEADER)
    key = authorize(service, token, header_hint=f"{API_KEY_HEADER}: <key>")
    form = await doors.form_body(request, doors.body_cap(AILAB))
    submission = parser(FieldReader(form.fields), form.files.get("image"), form.files.get("mask"))
    repeat = doors.body_fingerprint(form.fields, form.files)
    task = await doors.submit(service, key, submission, repeat=repeat)
    task = await doors.wait_sync(service, task)
    if not TaskStatus(task.status).finished:
        raise doors.timed_out(task)
    view = doors.view(task, service, request, with_data=True)
    status, body = render_task(view, doors.current_request_id())
    return JSONResponse(body, status_code=status)


def _render_info(info: ErrorInfo) -> tuple[int, dict[str, Any]]:
    return render_error(info.code, info.message, doors.current_request_id())


def install(app: FastAPI) -> None:
    app.include_router(router)
    doors.install_error_renderer(app, (PREFIX,), _render_info)
