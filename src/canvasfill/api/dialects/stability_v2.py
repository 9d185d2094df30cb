"""Stability AI's v2beta edits (``/v2beta/stable-image/edit/{outpaint,erase,inpaint}``).

Stability's own API, not the Stability-*style* ``/api/edit/outpaint`` call of
:mod:`canvasfill.api.dialects.stability` (kept as it is). Synchronous multipart;
``Accept: image/*`` (or none) answers the image bytes with ``finish-reason`` and
``seed`` headers, ``Accept: application/json`` answers ``{image, finish_reason, seed}``.
Erase and inpaint take a mask (white marks the fill) or, without one, the image's own
transparency. Errors are ``{"id", "name", "errors": [...]}``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from canvasfill.api.auth import BearerKey
from canvasfill.api.body import Body, BodyKind, body_cap
from canvasfill.api.dialects.fields import Field, FieldReader, Kind, fields_model
from canvasfill.api.dialects.stability import strength_from_creativity
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
from canvasfill.imaging.limits import STABILITY_V2
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.spec import (
    AlphaMask,
    Geometry,
    JobSpec,
    MaskRemoval,
    OutputOptions,
    PixelExpansion,
)

NAME = "stability-v2"
PREFIX = "/v2beta/"
EDIT = "/v2beta/stable-image/edit/"
META = "stability_v2"
"""Where the task keeps what the request asked for and canvasfill only records."""
BODY_CAP = body_cap(STABILITY_V2, images=2)
MAX_SIDE_PIXELS = 2000
MAX_PROMPT = 10_000
SEED_RANDOM = frozenset({0})
OUTPUT_FORMATS = ("png", "jpeg", "webp")
SIDES = {"left": ("left",), "right": ("right",), "up": ("up", "top"), "down": ("down", "bottom")}
"""Stability's side names, and what some clients send instead (``top``/``bottom``)."""
GROW_DEFAULT = 5
ERASE_MAX_GROW, INPAINT_MAX_GROW = 20, 100
JSON_TYPE = "application/json"

_BAD_REQUEST = (400, "bad_request")
_TOO_LARGE = (413, "payload_too_large")
_INTERNAL = (500, "internal_error")
_BY_CODE: dict[ErrorCode, tuple[int, str]] = exhaustive(
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
                ErrorCode.BODY_TIMEOUT,
            ),
            _BAD_REQUEST,
        ),
        (
            (ErrorCode.FILE_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.DECOMPRESSION_BOMB),
            _TOO_LARGE,
        ),
        ((ErrorCode.UNAUTHORIZED,), (401, "unauthorized")),
        # Stability documents no status for spent credits: canvasfill answers 402
        ((ErrorCode.INSUFFICIENT_CREDITS,), (402, "payment_required")),
        ((ErrorCode.RATE_LIMITED,), (429, "rate_limit_exceeded")),
        ((ErrorCode.NOT_FOUND,), (404, "not_found")),
        ((ErrorCode.METHOD_NOT_ALLOWED,), (405, "method_not_allowed")),
        (
            (
                ErrorCode.ENGINE_FAILED,
                ErrorCode.INTERNAL_ERROR,
                ErrorCode.WORKER_CRASHED,
                ErrorCode.INPUT_MISSING,
                ErrorCode.TIMEOUT,
            ),
            _INTERNAL,
        ),
        (
            (ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE),
            (503, "service_unavailable"),
        ),
    ),
    NAME,
)


# --- the fields, as Stability's reference declares them ------------------------------------

IMAGE = Field("image", Kind.FILE, required=True, description="JPEG, PNG or WebP, >= 64 px")
MASK = Field("mask", Kind.FILE, description="white = fill; absent: the image's alpha")
SIDE_FIELDS = {
    name: Field(
        name,
        Kind.INTEGER,
        0,
        minimum=0,
        maximum=MAX_SIDE_PIXELS,
        description="pixels" if name == side else f"pixels, as {side}",
    )
    for side, names in SIDES.items()
    for name in names
}
SEED = Field("seed", Kind.INTEGER, 0, minimum=0, maximum=SEED_MAX, description="0: random")
OUTPUT_FORMAT = Field("output_format", Kind.CHOICE, "png", choices=OUTPUT_FORMATS)
PROMPT = Field("prompt", Kind.TEXT, "", max_length=MAX_PROMPT)
NEGATIVE_PROMPT = Field("negative_prompt", Kind.TEXT, "", max_length=MAX_PROMPT)
CREATIVITY = Field("creativity", Kind.NUMBER, 0.5, minimum=0.0, maximum=1.0)
STYLE_PRESET = Field("style_preset", Kind.TEXT, "", max_length=64, description="recorded")
ERASE_GROW = Field("grow_mask", Kind.INTEGER, GROW_DEFAULT, minimum=0, maximum=ERASE_MAX_GROW)
INPAINT_GROW = Field("grow_mask", Kind.INTEGER, GROW_DEFAULT, minimum=0, maximum=INPAINT_MAX_GROW)
COMMON = (SEED, OUTPUT_FORMAT)
OUTPAINT_FIELDS = (IMAGE, *SIDE_FIELDS.values(), PROMPT, CREATIVITY, STYLE_PRESET, *COMMON)
ERASE_FIELDS = (IMAGE, MASK, ERASE_GROW, *COMMON)
INPAINT_PROMPT = Field("prompt", Kind.TEXT, required=True, max_length=MAX_PROMPT)
INPAINT_FIELDS = (
    IMAGE,
    MASK,
    INPAINT_PROMPT,
    NEGATIVE_PROMPT,
    INPAINT_GROW,
    STYLE_PRESET,
    *COMMON,
)


def _common(fields: FieldReader) -> tuple[int, OutputOptions]:
    """``seed`` (0 or absent: random) and ``output_format`` (default png)."""
    seed = resolve_seed(fields.read(SEED), SEED_RANDOM)
    return seed, OutputOptions(format=OutputFormat(fields.read(OUTPUT_FORMAT)))


def _side(fields: FieldReader, names: tuple[str, ...]) -> int:
    for name in names:
        if fields.present(name):
            value: int = fields.read(SIDE_FIELDS[name])
            return value
    return 0


def parse_outpaint(fields: FieldReader, image: bytes | None) -> Submission:
    require_image(image, None, names="image")
    pixels = {side: _side(fields, names) for side, names in SIDES.items()}
    if not any(pixels.values()):
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "at least one of left, right, up, down must be greater than 0",
            field="left",
        )
    seed, output = _common(fields)
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(
            left=pixels["left"], right=pixels["right"], top=pixels["up"], bottom=pixels["down"]
        ),
        seed=seed,
        prompt=fields.read(PROMPT),
        strength=strength_from_creativity(fields.read(CREATIVITY)),
        output=output,
        limits=NAME,
    )
    meta = {META: {"style_preset": fields.read(STYLE_PRESET) or None}}
    return Submission(spec=spec, image=image, dialect=NAME, meta=meta)


def _in_place(fields: FieldReader, mask: bytes | None, grow_field: Field) -> Geometry:
    """A mask's white marks the fill; without one, the image's transparent pixels do."""
    grow = fields.read(grow_field)
    if mask is not None:
        return MaskRemoval(grow=grow)
    return AlphaMask(source="image", grow=grow)


def parse_erase(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    require_image(image, None, names="image")
    seed, output = _common(fields)
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=_in_place(fields, mask, ERASE_GROW),
        seed=seed,
        output=output,
        limits=NAME,
    )
    return Submission(spec=spec, image=image, mask=mask, dialect=NAME)


def parse_inpaint(fields: FieldReader, image: bytes | None, mask: bytes | None) -> Submission:
    require_image(image, None, names="image")
    prompt = fields.read(INPAINT_PROMPT)
    if not prompt:
        raise InputError(ErrorCode.MISSING_PARAMETER, "prompt is required", field="prompt")
    seed, output = _common(fields)
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=_in_place(fields, mask, INPAINT_GROW),
        seed=seed,
        prompt=prompt,
        negative_prompt=fields.read(NEGATIVE_PROMPT),
        output=output,
        limits=NAME,
    )
    meta = {META: {"style_preset": fields.read(STYLE_PRESET) or None}}
    return Submission(spec=spec, image=image, mask=mask, dialect=NAME, meta=meta)


def wants_json(headers: Mapping[str, str]) -> bool:
    """``Accept: application/json`` asks for JSON; ``image/*`` or none for the bytes."""
    return JSON_TYPE in headers.get("accept", "").lower()


def render_task(task: TaskView, incoming: Incoming) -> Answer:
    if task.status != "succeeded" or not task.results:
        code = task.error_code or ErrorCode.ENGINE_FAILED
        info = ErrorInfo(code, task.error_message or "the edit failed", task.error_field)
        return render_error(info, incoming.request_id)
    data = task.result_data()[0]
    if wants_json(incoming.headers):
        image = base64.b64encode(data).decode("ascii")
        return Answer({"image": image, "finish_reason": "SUCCESS", "seed": task.seed})
    return Answer(
        None,
        content=data,
        media_type=OutputFormat(task.results[0].format).media_type,
        headers={"finish-reason": "SUCCESS", "seed": str(task.seed)},
    )


def error_body(info: ErrorInfo, request_id: str) -> dict[str, Any]:
    return {"id": request_id, "name": _BY_CODE[info.code][1], "errors": [info.message]}


def render_error(info: ErrorInfo, request_id: str) -> Answer:
    return Answer(error_body(info, request_id), _BY_CODE[info.code][0])


def _create(
    path: str,
    summary: str,
    parse: Callable[[Incoming], Submission],
    fields: Sequence[Field],
) -> Create:
    return Create(
        path=EDIT + path,
        summary=summary,
        body=Body(BodyKind.FORM, BODY_CAP),
        parse=parse,
        render=render_task,
        wait_s=synchronous,
        joins_repeats=lambda _submission: True,
        with_data=lambda _submission: True,
        fields=fields_model("StabilityV2" + path.title(), fields),
    )


DOOR = register(
    Door(
        name=NAME,
        tag="stability-v2",
        auth=BearerKey(name="stabilityV2Key"),
        operations=(
            _create(
                "outpaint",
                "Stability v2beta outpaint (synchronous)",
                lambda incoming: parse_outpaint(
                    FieldReader(incoming.fields), incoming.files.get("image")
                ),
                OUTPAINT_FIELDS,
            ),
            _create(
                "erase",
                "Stability v2beta erase (synchronous)",
                lambda incoming: parse_erase(
                    FieldReader(incoming.fields),
                    incoming.files.get("image"),
                    incoming.files.get("mask"),
                ),
                ERASE_FIELDS,
            ),
            _create(
                "inpaint",
                "Stability v2beta inpaint (synchronous)",
                lambda incoming: parse_inpaint(
                    FieldReader(incoming.fields),
                    incoming.files.get("image"),
                    incoming.files.get("mask"),
                ),
                INPAINT_FIELDS,
            ),
        ),
        render_error=render_error,
        namespaces=(PREFIX,),
    )
)
