"""Stability-style outpaint (``POST /api/edit/outpaint``): synchronous multipart.

Answers ``{code: 0, message: "success", data: {image: <base64>, seed}}`` or
``{code: -1, message: <reason>, data: null}``. ``creativity`` (0..1) becomes the
diffusion strength through ``engines.diffusion.strength_from_creativity`` (0.5 + 0.5c):
how far the fill may stray from the first guess. Each successful
result costs 8 credits; a failure costs nothing.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from canvasfill.api.dialects import http
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.api.dialects.view import TaskView, require_image
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.service import Service, get_service
from canvasfill.engines.base import SEED_MAX, Operation, resolve_seed
from canvasfill.engines.diffusion import strength_from_creativity
from canvasfill.errors import CanvasfillError, ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.jobs.accept import Submission
from canvasfill.jobs.spec import JobSpec, OutputOptions, PixelExpansion

NAME = "stability"
AUTH_HEADER = "authorization"
PATH = "/api/edit/outpaint"
CREDITS_PER_IMAGE = 8
MAX_PIXELS_PER_SIDE = 2000
SEED_RANDOM = frozenset({0})
SIDES = ("left", "right", "up", "down")

_STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_FORMAT: 415,
    "unauthorized": 401,
    "insufficient_credits": 402,
    "rate_limited": 429,
    "not_found": 404,
    ErrorCode.ENGINE_FAILED: 500,
    "internal_error": 500,
    "timeout": 504,
}


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
        prompt=fields.text("prompt"),
        strength=strength_from_creativity(
            fields.number("creativity", 0.5, minimum=0.0, maximum=1.0)
        ),
        output=OutputOptions(format=OutputFormat(output_format)),
        limits=NAME,
    )
    return Submission(spec=spec, image=image, dialect=NAME, price_per_image=CREDITS_PER_IMAGE)


def render_task(task: TaskView) -> tuple[int, dict[str, Any]]:
    if task.status == "succeeded" and task.results:
        image = base64.b64encode(task.results[0].load()).decode("ascii")
        return 200, {"code": 0, "message": "success", "data": {"image": image, "seed": task.seed}}
    return render_error(task.error_code or ErrorCode.ENGINE_FAILED, task.error_message or "failed")


def render_error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    return _STATUS_BY_CODE.get(code, 400), {"code": -1, "message": message, "data": None}


def render_exception(error: CanvasfillError) -> tuple[int, dict[str, Any]]:
    return render_error(error.code, error.message)


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
    key = http.caller(service, token_of(request.headers.get(AUTH_HEADER)), AUTH_HEADER)
    fields, files = await http.read_form(request)
    parsed = parse(fields, files.get("image"))
    task = await http.submit(service, key, parsed)
    task = await http.wait_sync(service, task)
    if task.status in ("queued", "running"):
        status, body = render_error("timeout", "the task did not finish in time")
    else:
        status, body = render_task(http.view(task, service, request))
    return JSONResponse(body, status_code=status)


def _render_info(info: ErrorInfo) -> tuple[int, dict[str, Any]]:
    return render_error(info.code, info.message)


def install(app: FastAPI) -> None:
    app.include_router(router)
    http.install_error_renderer(app, (PATH,), _render_info)
