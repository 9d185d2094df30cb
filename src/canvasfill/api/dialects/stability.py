"""Stability-style outpaint (``POST /api/edit/outpaint``): synchronous multipart.

Answers ``{code: 0, message: "success", data: {image: <base64>, seed}}`` or
``{code: -1, message: <reason>, data: null}``. ``creativity`` (0..1) becomes the
diffusion strength through :func:`strength_from_creativity` (0.5 + 0.5c): how far the
fill may stray from the first guess. Each successful
result costs 8 credits; a failure costs nothing.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from canvasfill.api import doors
from canvasfill.api.auth import authorize
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.service import Service, get_service
from canvasfill.api.view import TaskView, require_image
from canvasfill.engines.base import SEED_MAX, Operation, resolve_seed
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.imaging.limits import STABILITY
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import TaskStatus
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

_STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_FORMAT: 415,
    ErrorCode.FULL_MASK: 400,  # no mask here: listed for completeness
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INSUFFICIENT_CREDITS: 402,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.ENGINE_FAILED: 500,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.STORAGE_UNAVAILABLE: 503,
    ErrorCode.BODY_TIMEOUT: 408,
}
BODY_CAP = doors.body_cap(STABILITY, images=1)


def strength_from_creativity(creativity: float) -> float:
    """Stability's ``creativity`` (0..1, default 0.5) as a diffusion ``strength``.

    Strength is how much of the starting image is noised away. Below about 0.5 an
    expansion keeps the smooth first guess and looks blurred, so creativity spans
    0.5..1: the default 0.5 becomes 0.75, and 1 lets the model ignore the guess.
    """
    return 0.5 + 0.5 * min(max(creativity, 0.0), 1.0)


def parse(fields: FieldReader, image: bytes | None) -> Submission:
    require_image(image, None, names="image")
    pixels = {
        side: fields.integer(side, 0, minimum=0, maximum=MAX_PIXELS_PER_SIDE) for side in SIDES
    }
    if not any(pixels.values()):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "at least one of left, right, up, down must be greater than 0",
            field="left",
        )
    seed = fields.integer("seed", 0, minimum=0, maximum=SEED_MAX)
    output_format = fields.choice("output_format", "png", ("jpeg", "png", "webp"))
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(
            left=pixels["left"], right=pixels["right"], top=pixels["up"], bottom=pixels["down"]
        ),
        seed=resolve_seed(seed, SEED_RANDOM),
        prompt=fields.text("prompt", max_length=MAX_PROMPT),
        strength=strength_from_creativity(
            fields.number("creativity", 0.5, minimum=0.0, maximum=1.0)
        ),
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
    return _STATUS_BY_CODE.get(code, 400), {"code": -1, "message": message, "data": None}


# --- routes ------------------------------------------------------------------------------

router = APIRouter(tags=["stability"])
ServiceDep = Annotated[Service, Depends(get_service)]


def token_of(header: str | None) -> str | None:
    """The reference sends the bare token; a ``Bearer`` prefix is accepted too."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else header.strip()


@router.post(PATH, summary="Stability-style outpaint (synchronous)")
async def outpaint(request: Request, service: ServiceDep) -> Response:
    header = request.headers.get(AUTH_HEADER) or request.headers.get(REFERENCE_AUTH_HEADER)
    key = authorize(service, token_of(header), header_hint=f"{AUTH_HEADER}: <key>")
    fields, files = await doors.form_or_json_body(request, BODY_CAP, JSON_FILES)
    parsed = parse(FieldReader(fields), files.get("image"))
    repeat = doors.body_fingerprint(fields, files)
    task = await doors.wait_sync(service, await doors.submit(service, key, parsed, repeat=repeat))
    if not TaskStatus(task.status).finished:
        raise doors.timed_out(task)
    status, body = render_task(doors.view(task, service, request, with_data=True))
    return JSONResponse(body, status_code=status)


def _render_info(info: ErrorInfo) -> tuple[int, dict[str, Any]]:
    return render_error(info.code, info.message)


def install(app: FastAPI) -> None:
    app.include_router(router)
    doors.install_error_renderer(app, (PREFIX,), _render_info)
