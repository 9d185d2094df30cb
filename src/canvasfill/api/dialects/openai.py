"""OpenAI image edits (``POST /v1/images/edits``) and ``GET /v1/models``: synchronous multipart.

Clients of the ``openai`` SDKs change only ``base_url`` and the key. What to fill is
marked by transparency, as OpenAI marks it: a ``mask`` file's fully transparent pixels,
or without one the image's own (a photo on a larger transparent canvas is an expansion,
a transparent hole a removal; both are :class:`~canvasfill.pipeline.spec.AlphaMask`).
Fields canvasfill cannot honour (``quality``, ``background``, ``input_fidelity``,
``user``...) are accepted, checked where OpenAI checks them, and kept with the task.

``stream=true`` answers ``text/event-stream`` while the task runs (the handler's
streamed answer, fed by the task's events): with ``partial_images`` = N > 0 the task
asks for N previews (``JobSpec.previews``), and each one its worker stores is sent as
an ``image_edit.partial_image`` event as it arrives (only engines that show their work
make any: ``patch`` does, once per pyramid level; the others send none), then one
``image_edit.completed`` event per image. A partial image is a small picture (at most
512 px a side) in the requested output format; its ``size`` is the requested size, or
for ``auto`` its own. A failure after the stream began is an ``error`` event.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from canvasfill.api.auth import BearerKey
from canvasfill.api.body import Body, BodyKind, body_cap
from canvasfill.api.dialects.fields import Field, FieldReader, Kind, fields_model
from canvasfill.api.door import (
    Account,
    Answer,
    Create,
    Door,
    Incoming,
    Stream,
    exhaustive,
    register,
    rows,
    synchronous,
)
from canvasfill.api.errors import ApiError, ErrorInfo
from canvasfill.api.view import PreviewView, TaskView
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.engines.registry import engine_names
from canvasfill.errors import (
    DOWNLOAD_CODES,
    IMAGE_FILE_CODES,
    IMAGE_SIZE_CODES,
    MASK_CODES,
    SERVICE_ONLY_CODES,
    ErrorCode,
    InputError,
)
from canvasfill.imaging.encode import DEFAULT_QUALITY, OutputFormat
from canvasfill.imaging.limits import OPENAI
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey
from canvasfill.pipeline.spec import AlphaMask, JobSpec, OutputOptions

NAME = "openai"
PATH = "/v1/images/edits"
MODELS_PATH = "/v1/models"
NAMESPACES = ("/v1/images/", MODELS_PATH)
"""OpenAI's image routes and its model list: unknown paths there answer OpenAI's
envelope (Kling's longer ``/v1/images/editing/`` stays Kling's; the rest of ``/v1/`` is
the native API's)."""
META = "openai"
"""Where the task keeps the request's OpenAI options (recorded, and read to render)."""
BODY_CAP = body_cap(OPENAI, images=2)
MAX_IMAGES_SENT = 16
MAX_N = 10
MAX_PROMPT = 32_000
SIZES = ("256x256", "512x512", "1024x1024", "1536x1024", "1024x1536")
# enums OpenAI checks: an unknown value is its 400, so it is canvasfill's too
QUALITIES = ("auto", "low", "medium", "high", "standard", "hd", "xhigh", "max")
BACKGROUNDS = ("auto", "transparent", "opaque")
INPUT_FIDELITIES = ("high", "low")
RESPONSE_FORMATS = ("url", "b64_json")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
URL_BY_DEFAULT = frozenset({"dall-e-2"})
"""Models whose answer defaults to ``url``; the gpt-image models always answer base64."""
RECORDED_TEXT = ("user", "safety_identifier")
USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "total_tokens": 0,
    "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
}
"""canvasfill charges credits, not tokens: usage is there, with zero counts."""

_INVALID = (400, "invalid_request_error", None)
_SERVER = (500, "server_error", None)
_BY_CODE: dict[ErrorCode, tuple[int, str, str | None]] = exhaustive(
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
            ),
            _INVALID,
        ),
        ((ErrorCode.PAYLOAD_TOO_LARGE,), (413, "invalid_request_error", None)),
        ((ErrorCode.BODY_TIMEOUT,), (408, "invalid_request_error", None)),
        ((ErrorCode.UNAUTHORIZED,), (401, "invalid_request_error", "invalid_api_key")),
        ((ErrorCode.INSUFFICIENT_CREDITS,), (429, "insufficient_quota", "insufficient_quota")),
        ((ErrorCode.RATE_LIMITED,), (429, "requests", "rate_limit_exceeded")),
        ((ErrorCode.NOT_FOUND,), (404, "invalid_request_error", None)),
        ((ErrorCode.METHOD_NOT_ALLOWED,), (405, "invalid_request_error", None)),
        (
            (
                ErrorCode.ENGINE_FAILED,
                ErrorCode.INTERNAL_ERROR,
                ErrorCode.WORKER_CRASHED,
                ErrorCode.INPUT_MISSING,
                ErrorCode.TIMEOUT,
            ),
            _SERVER,
        ),
        (
            (ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE),
            (503, "server_error", "service_unavailable"),
        ),
    ),
    NAME,
)


# --- the fields, as OpenAI's reference declares them ---------------------------------------

IMAGE = Field("image", Kind.FILE, required=True, description="PNG, JPEG or WebP; image[] too")
MASK = Field("mask", Kind.FILE, description="PNG: its fully transparent pixels are filled")
PROMPT = Field("prompt", Kind.TEXT, required=True, max_length=MAX_PROMPT)
MODEL = Field("model", Kind.TEXT, "", max_length=256, description="a canvasfill engine name")
N = Field("n", Kind.INTEGER, 1, minimum=1, maximum=MAX_N)
SIZE = Field("size", Kind.CHOICE, "auto", choices=("auto", *SIZES))
OUTPUT_FORMAT = Field("output_format", Kind.CHOICE, "png", choices=OUTPUT_FORMATS)
OUTPUT_COMPRESSION = Field("output_compression", Kind.INTEGER, minimum=0, maximum=100)
RESPONSE_FORMAT = Field(
    "response_format",
    Kind.CHOICE,
    "b64_json",
    choices=RESPONSE_FORMATS,
    description="default url for dall-e-2",
)
QUALITY = Field("quality", Kind.CHOICE, "auto", choices=QUALITIES, description="recorded")
BACKGROUND = Field("background", Kind.CHOICE, "auto", choices=BACKGROUNDS, description="recorded")
INPUT_FIDELITY = Field(
    "input_fidelity", Kind.CHOICE, "low", choices=INPUT_FIDELITIES, description="recorded"
)
STREAM = Field("stream", Kind.TEXT, "false", description="true: text/event-stream")
PARTIAL_IMAGES = Field("partial_images", Kind.INTEGER, minimum=0, maximum=3)
RECORDED = tuple(
    Field(name, Kind.TEXT, "", max_length=256, description="recorded") for name in RECORDED_TEXT
)
FIELDS = (
    IMAGE,
    MASK,
    PROMPT,
    MODEL,
    N,
    SIZE,
    OUTPUT_FORMAT,
    OUTPUT_COMPRESSION,
    RESPONSE_FORMAT,
    QUALITY,
    BACKGROUND,
    INPUT_FIDELITY,
    STREAM,
    PARTIAL_IMAGES,
    *RECORDED,
)


def parse(
    fields: FieldReader, file_parts: Mapping[str, Sequence[bytes]], mask: bytes | None
) -> Submission:
    """The form as OpenAI reads it; the first image is the one edited."""
    images = [*file_parts.get("image", ()), *file_parts.get("image[]", ())]
    if not images:
        raise InputError(ErrorCode.MISSING_PARAMETER, "image is required", field="image")
    if len(images) > MAX_IMAGES_SENT:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"at most {MAX_IMAGES_SENT} images may be sent (got {len(images)})",
            field="image",
        )
    stream = _boolean(fields, STREAM.name)
    partial_images = fields.read(PARTIAL_IMAGES)
    prompt = fields.text(PROMPT.name, max_length=PROMPT.max_length)
    if not prompt.strip():
        raise InputError(ErrorCode.MISSING_PARAMETER, "prompt is required", field="prompt")
    model = str(fields.read(MODEL)).strip()
    size = fields.read(SIZE)
    output_format = fields.read(OUTPUT_FORMAT)
    compression = fields.read(OUTPUT_COMPRESSION)
    default_response = "url" if model in URL_BY_DEFAULT else "b64_json"
    options = {
        "model": model or None,
        "response_format": fields.choice(
            RESPONSE_FORMAT.name, default_response, RESPONSE_FORMAT.choices
        ),
        "size": size,
        "quality": fields.read(QUALITY),
        "background": fields.read(BACKGROUND),
        "input_fidelity": fields.read(INPUT_FIDELITY),
        "output_format": output_format,
        "output_compression": compression,
        "stream": stream,
        "partial_images": partial_images,
        "images_sent": len(images),
        **{field.name: fields.read(field) or None for field in RECORDED},
    }
    spec = JobSpec(
        # transparency alone cannot be told apart before decoding; OpenAI's users send
        # it to outpaint, and a mask to remove (the engine choice and price follow)
        operation=Operation.REMOVE if mask is not None else Operation.EXPAND,
        geometry=AlphaMask(source="mask" if mask is not None else "image"),
        seed=resolve_seed(None),
        engine=model if model in engine_names() else "auto",
        n=fields.read(N),
        prompt=prompt,
        output=OutputOptions(
            format=OutputFormat(output_format),
            quality=max(compression, 1) if compression is not None else DEFAULT_QUALITY,
            size=None if size == "auto" else _size(size),
        ),
        limits=NAME,
        # previews are made (and stored) only for a stream that will send them
        previews=(partial_images or 0) if stream else 0,
    )
    return Submission(spec=spec, image=images[0], mask=mask, dialect=NAME, meta={META: options})


def _boolean(fields: FieldReader, name: str) -> bool:
    raw = fields.raw(name)
    if raw in (None, ""):
        return False
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise InputError(
        ErrorCode.INVALID_PARAMETER, f"{name} must be true or false (got {raw!r})", field=name
    )


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def _options(task: TaskView) -> dict[str, Any]:
    options = task.meta.get(META)
    return dict(options) if isinstance(options, dict) else {}


def wants_data(options: Mapping[str, Any]) -> bool:
    """The answer carries base64 (``b64_json``, and every streamed image)."""
    return bool(options.get("stream")) or options.get("response_format") != "url"


def _size_label(task: TaskView, options: Mapping[str, Any]) -> str:
    size = str(options.get("size") or "auto")
    if size == "auto" and task.results:
        return f"{task.results[0].width}x{task.results[0].height}"
    return size


def _common(task: TaskView, options: Mapping[str, Any]) -> dict[str, Any]:
    return {
        # the filled area is opaque: a transparent background is recorded, not made
        "background": "opaque",
        "output_format": options.get("output_format", "png"),
        "quality": options.get("quality", "auto"),
        "size": _size_label(task, options),
    }


def render_task(task: TaskView) -> Answer:
    """The finished task as OpenAI answers it without ``stream``: JSON."""
    options = _options(task)
    if task.status != "succeeded" or not task.results:
        return render_error(_failure(task))
    created = int(task.created_at.timestamp())
    if options.get("response_format") == "url":
        images = [{"url": result.url, "revised_prompt": None} for result in task.results]
    else:
        images = [
            {"b64_json": base64.b64encode(data).decode("ascii"), "revised_prompt": None}
            for data in task.result_data()
        ]
    return Answer({"created": created, "data": images, **_common(task, options), "usage": USAGE})


def _failure(task: TaskView) -> ErrorInfo:
    code = task.error_code or ErrorCode.ENGINE_FAILED
    return ErrorInfo(code, task.error_message or "the edit failed", task.error_field)


def render_partials(task: TaskView, previews: Sequence[PreviewView]) -> bytes:
    """One ``image_edit.partial_image`` event per new preview of the running task."""
    options = _options(task)
    size = str(options.get("size") or "auto")
    return _events(
        [
            (
                "image_edit.partial_image",
                {
                    "type": "image_edit.partial_image",
                    "b64_json": base64.b64encode(preview.data).decode("ascii"),
                    "partial_image_index": preview.index,
                    "created_at": int(task.created_at.timestamp()),
                    **_common(task, options),
                    "size": f"{preview.width}x{preview.height}" if size == "auto" else size,
                },
            )
            for preview in previews
        ]
    )


def render_completed(task: TaskView) -> bytes:
    """The stream's end: one ``image_edit.completed`` event per image, or an ``error``."""
    options = _options(task)
    if task.status != "succeeded" or not task.results:
        return render_stream_error(_failure(task))
    return _events(
        [
            (
                "image_edit.completed",
                {
                    "type": "image_edit.completed",
                    "b64_json": base64.b64encode(data).decode("ascii"),
                    "created_at": int(task.created_at.timestamp()),
                    **_common(task, options),
                    "usage": USAGE,
                },
            )
            for data in task.result_data()
        ]
    )


def render_stream_error(info: ErrorInfo) -> bytes:
    """An ``error`` event: the SDKs raise it as an ``APIError`` with this body."""
    return _events([("error", {"type": "error", **error_body(info)})])


def _events(events: Sequence[tuple[str, dict[str, Any]]]) -> bytes:
    """Server-sent events, each ``event:`` and one JSON ``data:`` line."""
    text = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    return text.encode("utf-8")


STREAM_ANSWER = Stream(
    wanted=lambda submission: bool(submission.meta[META].get("stream")),
    media_type="text/event-stream",
    render_update=lambda task, previews, _incoming: render_partials(task, previews),
    render_end=lambda task, _incoming: render_completed(task),
    render_error=lambda info, _incoming: render_stream_error(info),
)


def error_body(info: ErrorInfo) -> dict[str, Any]:
    _status, kind, code = _BY_CODE[info.code]
    return {"error": {"message": info.message, "type": kind, "param": info.field, "code": code}}


def render_error(info: ErrorInfo) -> Answer:
    return Answer(error_body(info), _BY_CODE[info.code][0])


def model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "canvasfill"}


def _render_models(_key: ApiKey, _incoming: Incoming) -> Answer:
    """Every registered engine as a model: clients call this to check a key."""
    return Answer({"object": "list", "data": [model_object(name) for name in engine_names()]})


def _render_model(_key: ApiKey, incoming: Incoming) -> Answer:
    name = incoming.path.get("model", "")
    if name not in engine_names():
        raise ApiError(ErrorCode.NOT_FOUND, f"The model '{name}' does not exist", field="model")
    return Answer(model_object(name))


DOOR = register(
    Door(
        name=NAME,
        tag="openai",
        auth=BearerKey(name="openaiKey"),
        operations=(
            Create(
                path=PATH,
                summary="OpenAI image edit (synchronous; stream=true answers events)",
                body=Body(BodyKind.FORM, BODY_CAP),
                parse=lambda incoming: parse(
                    FieldReader(incoming.fields), incoming.file_parts, incoming.files.get("mask")
                ),
                render=lambda task, _incoming: render_task(task),
                wait_s=synchronous,
                joins_repeats=lambda _submission: True,
                with_data=lambda submission: wants_data(submission.meta[META]),
                fields=fields_model("OpenaiImageEdit", FIELDS),
                stream=STREAM_ANSWER,
            ),
            Account(
                paths=(MODELS_PATH,),
                summary="OpenAI models: the engines (a key check)",
                render=_render_models,
            ),
            Account(
                paths=(MODELS_PATH + "/{model}",),
                summary="OpenAI model: one engine",
                render=_render_model,
            ),
        ),
        render_error=lambda info, _request_id: render_error(info),
        namespaces=NAMESPACES,
    )
)
