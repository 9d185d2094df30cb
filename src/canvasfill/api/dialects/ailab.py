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
from typing import Any

from pydantic import BaseModel

from canvasfill.api.auth import HeaderKey
from canvasfill.api.body import Body, BodyKind, body_cap
from canvasfill.api.dialects.fields import Field, FieldReader, Kind, fields_model
from canvasfill.api.door import (
    Answer,
    Create,
    Door,
    Incoming,
    exhaustive,
    register,
    rows,
    synchronous,
)
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.view import TaskView, output_format_of, require_image
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
from canvasfill.imaging.limits import AILAB
from canvasfill.jobs.submission import Submission
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

# (HTTP status, error_detail.code, code_message) for every canvasfill code
_IMAGE_SIZE = (422, "ERROR_IMAGE_SIZE", "The image size does not meet the requirements.")
_IMAGE_FORMAT = (422, "ERROR_IMAGE_FORMAT", "The image format does not meet the requirements.")
_NO_SUCH_AI = "AI does not exist or has been deactivated."
_INVALID = (400, "ERROR_INVALID_PARAMETER", "Invalid parameter.")
_PROCESSING_FAILURE = (400, "PROCESSING_FAILURE", "Processing failed.")
_BY_CODE = exhaustive(
    rows(
        (TASK_FAILURE_CODES + DOWNLOAD_CODES, _PROCESSING_FAILURE),
        (
            (
                *SERVICE_ONLY_CODES,
                ErrorCode.INVALID_REQUEST,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                ErrorCode.EXTERNAL_ID_TAKEN,
            ),
            _PROCESSING_FAILURE,
        ),
        ((ErrorCode.MISSING_PARAMETER,), (400, "MISSING_PARAMETERS", "Missing parameters.")),
        ((ErrorCode.INVALID_PARAMETER, *MASK_CODES), _INVALID),
        (
            (ErrorCode.EMPTY_MASK,),
            (400, "PARAMETERS_CANNOT_EMPTY", "Parameters cannot be empty."),
        ),
        ((*IMAGE_SIZE_CODES, ErrorCode.PAYLOAD_TOO_LARGE), _IMAGE_SIZE),
        (IMAGE_FILE_CODES, _IMAGE_FORMAT),
        (
            (ErrorCode.UNAUTHORIZED,),
            (401, "ERROR_APPLICATIONS_NOT_EXISTS", "The application does not exist."),
        ),
        (
            (ErrorCode.INSUFFICIENT_CREDITS,),
            (429, "ERROR_NOT_ENOUGH_CREDITS", "Insufficient credits."),
        ),
        ((ErrorCode.RATE_LIMITED,), (429, "ERROR_TOO_MANY_REQUESTS", "Too many requests.")),
        ((ErrorCode.NOT_FOUND,), (404, "ERROR_AI_NOT_EXISTS", _NO_SUCH_AI)),
        ((ErrorCode.METHOD_NOT_ALLOWED,), (405, "ERROR_AI_NOT_EXISTS", _NO_SUCH_AI)),
        (
            (ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE),
            (503, "PROCESSING_FAILURE", "Processing failed."),
        ),
        ((ErrorCode.BODY_TIMEOUT,), (408, "PROCESSING_FAILURE", "Processing failed.")),
    ),
    NAME,
)


# --- the fields, as the reference declares them -------------------------------------------

IMAGE = Field("image", Kind.FILE, required=True, description="JPEG or PNG, 65..4095 px a side")
MASK = Field("mask", Kind.FILE, description="8-bit grey PNG, white = fill")
SIDES = tuple(
    Field(
        side,
        Kind.NUMBER,
        DEFAULT_RATIO,
        minimum=0.0,
        maximum=1.0,
        description=f"growth of the {side} side as a fraction of the image's size",
    )
    for side in ("top", "bottom", "left", "right")
)
MAX_WIDTH = Field("max_width", Kind.INTEGER, DEFAULT_MAX_SIDE, minimum=0, maximum=MAX_OUTPUT_SIDE)
MAX_HEIGHT = Field("max_height", Kind.INTEGER, DEFAULT_MAX_SIDE, minimum=0, maximum=MAX_OUTPUT_SIDE)
# left out: each engine's own default (30 for SD and SDXL, as hosted; 4 for patch, whose
# steps are EM iterations: 30 would cost it 2-3x the time for nothing)
STEPS = Field("steps", Kind.INTEGER, minimum=1, maximum=MAX_STEPS)
STRENGTH = Field("strength", Kind.NUMBER, 0.8, minimum=0.1, maximum=1.0)
SCALE = Field("scale", Kind.NUMBER, 7.0, minimum=1.0, maximum=20.0)
SEED = Field("seed", Kind.INTEGER, 0, minimum=-1, description="-1: random")
CUSTOM_PROMPT = Field(
    "custom_prompt",
    Kind.TEXT,
    "",
    max_length=MAX_PROMPT_CHARACTERS,
    description=f"words past the first {PROMPT_WORDS} have no effect",
)
COMMON = (STEPS, STRENGTH, SCALE, SEED)
EXPAND_FIELDS = (IMAGE, MASK, *SIDES, MAX_WIDTH, MAX_HEIGHT, CUSTOM_PROMPT, *COMMON)
REMOVE_FIELDS = (IMAGE, Field("mask", Kind.FILE, required=True), *COMMON)


def _common(fields: FieldReader) -> dict[str, Any]:
    """The diffusion parameters both endpoints share, with the reference's ranges."""
    return {
        "steps": fields.read(STEPS),
        "strength": fields.read(STRENGTH),
        "guidance_scale": fields.read(SCALE),
        "seed": resolve_seed(fields.read(SEED), SEED_RANDOM),
    }


def parse_expand(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    """``ai-image-extender``: four side ratios (0..1, default 0.1) or a canvas + mask."""
    require_image(image, None, names="image")
    assert image is not None
    common = _common(fields)
    max_width, max_height = fields.read(MAX_WIDTH), fields.read(MAX_HEIGHT)
    geometry: CanvasMask | RatioExpansion
    if mask is not None:
        geometry = CanvasMask()
    else:
        ratios = {side.name: fields.read(side) for side in SIDES}
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
    text: str = fields.read(CUSTOM_PROMPT)
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
    status, detail_code, code_message = _BY_CODE[code]
    return status, _envelope(request_id, status, detail_code, code_message, message)


def render_task(task: TaskView, request_id: str) -> tuple[int, dict[str, Any]]:
    """A finished task as AILabTools answers it: the image, or the failure's error body."""
    if task.status == "succeeded":
        return 200, render_success(task, request_id)
    code = task.error_code or ErrorCode.ENGINE_FAILED
    return render_error(code, task.error_message or "", request_id)


def _render(task: TaskView, incoming: Incoming) -> Answer:
    status, body = render_task(task, incoming.request_id)
    return Answer(body, status)


def _render_error(info: ErrorInfo, request_id: str) -> Answer:
    status, body = render_error(info.code, info.message, request_id)
    return Answer(body, status)


Parser = Callable[[FieldReader, bytes | None, bytes | None], Submission]


def _create(path: str, summary: str, parser: Parser, fields: type[BaseModel]) -> Create:
    def parse(incoming: Incoming) -> Submission:
        files = incoming.files
        return parser(FieldReader(incoming.fields), files.get("image"), files.get("mask"))

    return Create(
        path=path,
        summary=summary,
        body=Body(BodyKind.FORM, body_cap(AILAB)),
        parse=parse,
        render=_render,
        wait_s=synchronous,
        joins_repeats=lambda _submission: True,
        with_data=lambda _submission: True,
        fields=fields,
    )


DOOR = register(
    Door(
        name=NAME,
        tag="ailab",
        auth=HeaderKey(name="ailabApiKey", header=API_KEY_HEADER),
        operations=(
            _create(
                EXPAND_PATH,
                "AILabTools AI Image Extender (synchronous)",
                parse_expand,
                fields_model("AilabImageExtender", EXPAND_FIELDS),
            ),
            _create(
                REMOVE_PATH,
                "AILabTools Remove Objects Advanced (synchronous)",
                parse_remove,
                fields_model("AilabRemoveObjects", REMOVE_FIELDS),
            ),
        ),
        render_error=_render_error,
        namespaces=(PREFIX,),
    )
)
