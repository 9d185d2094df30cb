"""The native API's translation: a request into a ``Submission``, and its small formats.

Pure functions of what the request said: no I/O, no stores. The routes read the body
through the shared glue and hand the parsed parts here.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from canvasfill.api.body import parse_json
from canvasfill.api.native.schema import MaskRequest, NativeRequest
from canvasfill.engines.base import Operation, resolve_seed
from canvasfill.engines.detect import DetectKind
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.imaging.limits import NATIVE
from canvasfill.jobs.idempotency import Idempotency, fingerprint
from canvasfill.jobs.submission import Notify, Submission
from canvasfill.pipeline.spec import (
    MASK_KIND,
    Box,
    BoxRemoval,
    CanvasMask,
    DetectedMask,
    Geometry,
    JobSpec,
    MaskRemoval,
    OutputOptions,
    PixelExpansion,
    RatioExpansion,
    parse_detect,
)

JSON_FORM_FIELDS = ("ratios", "pixels", "rectangles")
"""Form fields that carry JSON text in a multipart request."""
SIDES = ("left", "right", "top", "bottom")
FLAT_FORM_FIELDS = {
    **{side: ("ratios", side) for side in SIDES},
    **{f"{side}_px": ("pixels", side) for side in SIDES},
}
"""Flat form fields (``-F left=0.25``, ``-F left_px=200``) and the object each fills."""


def _invalid(message: str, field: str | None) -> InputError:
    return InputError(ErrorCode.INVALID_PARAMETER, message, field=field)


Model = TypeVar("Model", bound=BaseModel)


def validate(raw: dict[str, Any]) -> NativeRequest:
    """The request model, or the first validation problem as an ``InputError``."""
    return _validated(raw, NativeRequest)


def _validated(raw: dict[str, Any], model: type[Model]) -> Model:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise _invalid(f"{where}: {problem['msg']}", where or None) from None


def from_json(raw: Any) -> tuple[NativeRequest, bytes | None, bytes | None]:
    """A JSON body: the request and its decoded base64 image and mask."""
    if not isinstance(raw, dict):
        raise _invalid("the JSON body must be an object", None)
    body = validate(raw)
    image = decode_base64(body.image, "image") if body.image else None
    mask = decode_base64(body.mask, "mask") if body.mask else None
    return body, image, mask


def from_form(
    fields: dict[str, str], files: dict[str, bytes]
) -> tuple[NativeRequest, bytes | None, bytes | None]:
    """A multipart body: text fields (JSON text where the model wants an object) and files."""
    body = form_model(fields)
    image = files.get("image") or (decode_base64(body.image, "image") if body.image else None)
    mask = files.get("mask") or (decode_base64(body.mask, "mask") if body.mask else None)
    return body, image, mask


def form_model(fields: dict[str, str]) -> NativeRequest:
    """The request model of a multipart body's text fields (files aside)."""
    values: dict[str, Any] = {}
    flat: dict[str, dict[str, str]] = {}
    for name, value in fields.items():
        if name in FLAT_FORM_FIELDS and value != "":
            group, side = FLAT_FORM_FIELDS[name]
            if group in fields:
                raise _invalid(f"send {name} or {group}, not both", name)
            flat.setdefault(group, {})[side] = value
        elif name in JSON_FORM_FIELDS:
            values[name] = parse_json(value, name)
        elif value != "":
            values[name] = value
    values.update(flat)
    return validate(values)


def decode_base64(text: str, field: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{field} is not valid base64", field) from None


def submission(
    body: NativeRequest, image: bytes | None, mask: bytes | None, operation: Operation
) -> Submission:
    """The ``Submission`` for a validated request (the engine stays as asked: ``accept``
    puts the operator's default in place of none)."""
    if (image is None) == (body.image_url is None):
        raise _invalid("send exactly one of image (file or base64) and image_url", "image")
    if mask is not None and body.mask_url is not None:
        raise _invalid("send at most one of mask and mask_url", "mask")
    has_mask = mask is not None or body.mask_url is not None
    keep_out = _keep_out(body, operation)  # a bad detect is named before the geometry
    spec = JobSpec(
        operation=operation,
        geometry=_geometry(body, operation, has_mask),
        keep_out=keep_out,
        seed=resolve_seed(None if body.seed == -1 else body.seed),
        engine=body.engine or "auto",
        n=body.n,
        prompt=body.prompt,
        negative_prompt=body.negative_prompt,
        steps=body.steps,
        strength=body.strength,
        guidance_scale=body.guidance_scale,
        output=_output(body),
        limits=NATIVE.name,
        previews=body.previews,
    )
    return Submission(
        spec=spec,
        image=image,
        image_url=body.image_url,
        mask=mask,
        mask_url=body.mask_url,
        callback_url=body.callback_url,
        notify_on=Notify(body.callback_events),
    )


def _keep_out(body: NativeRequest, operation: Operation) -> tuple[DetectKind, ...]:
    """An expansion's ``detect``: the subject, kept out of the fill's sources."""
    if body.detect is None or operation is not Operation.EXPAND:
        return ()
    try:
        kinds = parse_detect(body.detect)
    except ValueError as exc:
        raise _invalid(str(exc), "detect") from None
    if kinds != ("subject",):
        raise _invalid(
            "on /v1/expand, detect takes subject (the fill copies nothing from it); text "
            "and text,subject find what /v1/remove removes",
            "detect",
        )
    return kinds


def _geometry(body: NativeRequest, operation: Operation, has_mask: bool) -> Geometry:
    if body.detect is not None and operation is Operation.REMOVE:
        return _detected(body, operation)
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


def _detected(body: NativeRequest, operation: Operation) -> DetectedMask:
    """``detect``: what is found, with the mask (sent beside) and rectangles added."""
    if operation is Operation.EXPAND:
        raise _invalid("detect belongs to /v1/remove, not /v1/expand", "detect")
    if body.ratios is not None or body.pixels is not None:
        raise _invalid("ratios and pixels belong to /v1/expand, not /v1/remove", "ratios")
    try:
        kinds = parse_detect(body.detect or "")
    except ValueError as exc:
        raise _invalid(str(exc), "detect") from None
    boxes = tuple(Box(**rect.model_dump()) for rect in body.rectangles or ())
    return DetectedMask(detect=kinds, boxes=boxes, grow=body.grow)


def mask_from_json(raw: Any) -> tuple[MaskRequest, bytes | None]:
    """A ``POST /v1/masks`` JSON body: the request and its decoded base64 image."""
    if not isinstance(raw, dict):
        raise _invalid("the JSON body must be an object", None)
    body = _validated(raw, MaskRequest)
    return body, decode_base64(body.image, "image") if body.image else None


def mask_from_form(
    fields: dict[str, str], files: dict[str, bytes]
) -> tuple[MaskRequest, bytes | None]:
    """A ``POST /v1/masks`` multipart body: its text fields and the image file."""
    body = mask_form_model(fields)
    others = sorted(name for name in files if name != "image")
    if others:
        raise _invalid(f"{others[0]}: /v1/masks takes one file, image", others[0])
    image = files.get("image") or (decode_base64(body.image, "image") if body.image else None)
    return body, image


def mask_form_model(fields: dict[str, str]) -> MaskRequest:
    """The mask request of a multipart body's text fields (the image file aside)."""
    return _validated({name: value for name, value in fields.items() if value != ""}, MaskRequest)


def mask_submission(body: MaskRequest, image: bytes | None) -> Submission:
    """A mask-only task: detection on the worker, its mask the only result."""
    if (image is None) == (body.image_url is None):
        raise _invalid("send exactly one of image (file or base64) and image_url", "image")
    try:
        kinds = parse_detect(body.detect)
    except ValueError as exc:
        raise _invalid(str(exc), "detect") from None
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=DetectedMask(detect=kinds),
        seed=0,  # nothing random happens: detection is deterministic
        mask_only=True,
        limits=NATIVE.name,
    )
    return Submission(
        spec=spec,
        image=image,
        image_url=body.image_url,
        callback_url=body.callback_url,
        notify_on=Notify(body.callback_events),
    )


def mask_idempotency(
    header: str | None, body: MaskRequest, image: bytes | None
) -> Idempotency | None:
    """``Idempotency-Key`` for a mask request, fingerprinted like the other operations."""
    if header is None:
        return None
    if not 1 <= len(header) <= 255:
        raise _invalid("Idempotency-Key must be 1 to 255 characters", "Idempotency-Key")
    fields = body.model_dump(exclude={"image"})
    fields["operation"] = MASK_KIND
    return Idempotency(key=header, fingerprint=fingerprint(fields, image))


def _output(body: NativeRequest) -> OutputOptions:
    options: dict[str, Any] = {
        "format": OutputFormat.parse(body.output_format),
        "max_width": body.max_width,
        "max_height": body.max_height,
    }
    if body.quality is not None:
        options["quality"] = body.quality
    return OutputOptions(**options)


def idempotency(
    header: str | None,
    operation: Operation,
    body: NativeRequest,
    image: bytes | None,
    mask: bytes | None,
) -> Idempotency | None:
    """The ``Idempotency-Key`` header with a fingerprint of what this request asks for."""
    if header is None:
        return None
    if not 1 <= len(header) <= 255:
        raise _invalid("Idempotency-Key must be 1 to 255 characters", "Idempotency-Key")
    fields = body.model_dump(exclude={"image", "mask"})
    fields["operation"] = operation.value
    return Idempotency(key=header, fingerprint=fingerprint(fields, image, mask))


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        # a sequence number fits in 64 bits: anything longer was not handed out here
        if prefix != "seq" or not number.isdigit() or not number.isascii() or len(number) > 18:
            raise ValueError(cursor)
        return int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise _invalid("cursor is not one this API handed out", "cursor") from None
