"""Stability-style outpaint (``POST /api/edit/outpaint``): synchronous multipart.

Answers ``{code: 0, message: "success", data: {image: <base64>, seed}}`` or
``{code: -1, message: <reason>, data: null}``. ``creativity`` (0..1) becomes the
diffusion strength through :func:`strength_from_creativity` (0.5 + 0.5c): how far the
fill may stray from the first guess. Each successful
result costs 8 credits; a failure costs nothing.
"""

from __future__ import annotations

import base64
from typing import Any

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
from canvasfill.api.view import TaskView, require_image
from canvasfill.engines.base import SEED_MAX, Operation, resolve_seed
from canvasfill.errors import (
    DOWNLOAD_CODES,
    IMAGE_FILE_CODES,
    IMAGE_SIZE_CODES,
    MASK_CODES,
    SERVICE_ONLY_CODES,
    ErrorCode,
    InputError,
)
from canvasfill.imaging.encode import OutputFormat
from canvasfill.imaging.limits import STABILITY
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.spec import JobSpec, OutputOptions, PixelExpansion

NAME = "stability"
AUTH_HEADER = "authorization"
REFERENCE_AUTH_HEADER = "authentication"
"""The header the reference's table names; its own example sends ``authorization``."""
JSON_FILES = {"image": "image"}
PREFIX = "/api/edit/"
"""Unknown paths and wrong methods under it answer in this door's body too."""
PATH = "/api/edit/outpaint"
CREDITS_PER_IMAGE = 8
MAX_PIXELS_PER_SIDE = 2000
SEED_RANDOM = frozenset({0})
SIDES = ("left", "right", "up", "down")
MAX_PROMPT = 2500
"""The reference names no limit; longer than Kling's 2500 characters is refused."""

_STATUS_BY_CODE = exhaustive(
    rows(
        (
            (
                *IMAGE_FILE_CODES,
                *IMAGE_SIZE_CODES,
                *MASK_CODES,
                *DOWNLOAD_CODES,
                *SERVICE_ONLY_CODES,
                ErrorCode.MISSING_PARAMETER,
                ErrorCode.INVALID_PARAMETER,
                ErrorCode.INVALID_REQUEST,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                ErrorCode.EXTERNAL_ID_TAKEN,
                ErrorCode.WORKER_CRASHED,
                ErrorCode.INPUT_MISSING,
            ),
            400,
        ),
        ((ErrorCode.FILE_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE), 413),
        ((ErrorCode.UNSUPPORTED_FORMAT,), 415),
        ((ErrorCode.UNAUTHORIZED,), 401),
        ((ErrorCode.INSUFFICIENT_CREDITS,), 402),
        ((ErrorCode.RATE_LIMITED,), 429),
        ((ErrorCode.NOT_FOUND,), 404),
        ((ErrorCode.METHOD_NOT_ALLOWED,), 405),
        ((ErrorCode.ENGINE_FAILED, ErrorCode.INTERNAL_ERROR), 500),
        ((ErrorCode.TIMEOUT,), 504),
        ((ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE), 503),
        ((ErrorCode.BODY_TIMEOUT,), 408),
    ),
    NAME,
)
BODY_CAP = body_cap(STABILITY, images=1)


def strength_from_creativity(creativity: float) -> float:
    """Stability's ``creativity`` (0..1, default 0.5) as a diffusion ``strength``.

    Strength is how much of the starting image is noised away. Below about 0.5 an
    expansion keeps the smooth first guess and looks blurred, so creativity spans
    0.5..1: the default 0.5 becomes 0.75, and 1 lets the model ignore the guess.
    """
    return 0.5 + 0.5 * min(max(creativity, 0.0), 1.0)


IMAGE = Field("image", Kind.FILE, required=True, description="JPEG, PNG or WebP")
PIXELS = tuple(
    Field(side, Kind.INTEGER, 0, minimum=0, maximum=MAX_PIXELS_PER_SIDE, description="pixels")
    for side in SIDES
)
SEED = Field("seed", Kind.INTEGER, 0, minimum=0, maximum=SEED_MAX, description="0: random")
OUTPUT_FORMAT = Field("output_format", Kind.CHOICE, "png", choices=("jpeg", "png", "webp"))
PROMPT = Field("prompt", Kind.TEXT, "", max_length=MAX_PROMPT)
CREATIVITY = Field(
    "creativity",
    Kind.NUMBER,
    0.5,
    minimum=0.0,
    maximum=1.0,
    description="how far the fill may stray from the first guess",
)
FIELDS = (IMAGE, *PIXELS, PROMPT, CREATIVITY, SEED, OUTPUT_FORMAT)


def parse(fields: FieldReader, image: bytes | None) -> Submission:
    require_image(image, None, names="image")
    pixels = {side.name: fields.read(side) for side in PIXELS}
    if not any(pixels.values()):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "at least one of left, right, up, down must be greater than 0",
            field="left",
        )
    seed = fields.read(SEED)
    output_format = fields.read(OUTPUT_FORMAT)
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(
            left=pixels["left"], right=pixels["right"], top=pixels["up"], bottom=pixels["down"]
        ),
        seed=resolve_seed(seed, SEED_RANDOM),
        prompt=fields.read(PROMPT),
        strength=strength_from_creativity(fields.read(CREATIVITY)),
        output=OutputOptions(format=OutputFormat(output_format)),
        limits=NAME,
    )
    return Submission(spec=spec, image=image, dialect=NAME, price_per_image=CREDITS_PER_IMAGE)


def render_task(task: TaskView) -> tuple[int, dict[str, Any]]:
    if task.status == "succeeded" and task.results:
        image = base64.b64encode(task.result_data()[0]).decode("ascii")
        return 200, {"code": 0, "message": "success", "data": {"image": image, "seed": task.seed}}
    return render_error(task.error_code or ErrorCode.ENGINE_FAILED, task.error_message or "failed")


def render_error(code: ErrorCode, message: str) -> tuple[int, dict[str, Any]]:
    return _STATUS_BY_CODE[code], {"code": -1, "message": message, "data": None}


def _render(task: TaskView, _incoming: Incoming) -> Answer:
    status, body = render_task(task)
    return Answer(body, status)


def _render_error(info: ErrorInfo, _request_id: str) -> Answer:
    status, body = render_error(info.code, info.message)
    return Answer(body, status)


DOOR = register(
    Door(
        name=NAME,
        tag="stability",
        # the reference's table names ``authentication``; its own example sends
        # ``authorization``, with the bare token (a ``Bearer`` prefix is accepted too)
        auth=HeaderKey(
            name="stabilityKey",
            header=AUTH_HEADER,
            also=(REFERENCE_AUTH_HEADER,),
            bearer_ok=True,
        ),
        operations=(
            Create(
                path=PATH,
                summary="Stability-style outpaint (synchronous)",
                body=Body(BodyKind.FORM_OR_JSON, BODY_CAP, base64_files=JSON_FILES),
                parse=lambda incoming: parse(
                    FieldReader(incoming.fields), incoming.files.get("image")
                ),
                render=_render,
                wait_s=synchronous,
                joins_repeats=lambda _submission: True,
                with_data=lambda _submission: True,
                fields=fields_model("StabilityOutpaint", FIELDS),
            ),
        ),
        render_error=_render_error,
        namespaces=(PREFIX,),
    )
)
