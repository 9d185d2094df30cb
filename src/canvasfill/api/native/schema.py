"""The native API's request body: one model for JSON and multipart, and its OpenAPI form.

A request is JSON (``image`` as base64 or ``image_url``) or multipart (``image`` as a
file; ``ratios``/``pixels``/``rectangles`` as JSON text). Both are validated by
``NativeRequest``; the routes document the two media types with ``REQUEST_BODY``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from canvasfill.engines.base import SEED_MAX
from canvasfill.imaging.limits import MAX_EXPAND_PIXELS, MAX_EXPAND_RATIO
from canvasfill.pipeline.spec import MAX_IMAGES, MAX_OUTPUT_SIDE, MAX_PREVIEWS, MAX_STEPS


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ratios(_Request):
    """Growth of each side as a fraction of the original's width (left/right) or height."""

    # NaN passes no bound and fails every one: name what is wrong with it, not a range
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    left: float = Field(0, ge=0, le=MAX_EXPAND_RATIO)
    right: float = Field(0, ge=0, le=MAX_EXPAND_RATIO)
    top: float = Field(0, ge=0, le=MAX_EXPAND_RATIO)
    bottom: float = Field(0, ge=0, le=MAX_EXPAND_RATIO)


class Pixels(_Request):
    left: int = Field(0, ge=0, le=MAX_EXPAND_PIXELS)
    right: int = Field(0, ge=0, le=MAX_EXPAND_PIXELS)
    top: int = Field(0, ge=0, le=MAX_EXPAND_PIXELS)
    bottom: int = Field(0, ge=0, le=MAX_EXPAND_PIXELS)


class Rectangle(_Request):
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class NativeRequest(_Request):
    """The body of ``POST /v1/expand`` and ``POST /v1/remove``."""

    image: str | None = Field(None, description="base64 image (a data: URL prefix is fine)")
    image_url: str | None = Field(
        None, max_length=2048, description="http(s) URL the image is fetched from"
    )
    mask: str | None = Field(
        None, description="base64 mask (white = fill): removal, or expansion in canvas mode"
    )
    mask_url: str | None = Field(None, max_length=2048)
    ratios: Ratios | None = Field(None, description="expand: growth per side, fractions")
    pixels: Pixels | None = Field(None, description="expand: growth per side, pixels")
    rectangles: list[Rectangle] | None = Field(
        None, max_length=50, description="remove: what lies in these boxes"
    )
    detect: str | None = Field(
        None,
        max_length=32,
        description="remove: find what to remove, `text`, `subject` or `text,subject`; "
        "a mask or rectangles, when given, are added to what is found. Nothing found "
        "fails the task with nothing_to_remove (credits returned). expand: `subject`, "
        "which the fill then copies nothing from (engine patch)",
    )
    grow: int = Field(0, ge=0, le=256, description="remove: widen the mask by this many px")
    prompt: str = Field("", max_length=2500)
    negative_prompt: str = Field("", max_length=2500)
    seed: int | None = Field(None, ge=-1, le=SEED_MAX, description="absent or -1: random")
    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    strength: float | None = Field(None, ge=0, le=1)
    guidance_scale: float | None = Field(None, ge=0, le=50)
    n: int = Field(1, ge=1, le=MAX_IMAGES)
    output_format: str = Field("png", max_length=16)
    quality: int | None = Field(None, ge=1, le=100)
    max_width: int = Field(0, ge=0, le=MAX_OUTPUT_SIDE)
    max_height: int = Field(0, ge=0, le=MAX_OUTPUT_SIDE)
    engine: str | None = Field(None, max_length=64)
    callback_url: str | None = Field(None, max_length=2048)
    callback_events: Literal["finish", "change"] = "finish"
    previews: int = Field(
        0,
        ge=0,
        le=MAX_PREVIEWS,
        description="intermediate pictures of the fill to keep while it runs, each "
        "announced with a signed URL on the task's event stream (engines that show their "
        "work: patch); 0 keeps none",
    )


class MaskRequest(_Request):
    """The body of ``POST /v1/masks``: find what to remove and answer only its mask."""

    image: str | None = Field(None, description="base64 image (a data: URL prefix is fine)")
    image_url: str | None = Field(
        None, max_length=2048, description="http(s) URL the image is fetched from"
    )
    detect: str = Field(
        max_length=32,
        description="what to find: `text`, `subject` or `text,subject`. The task's "
        "results[0] is a PNG mask of the image's size, 255 where found; nothing found "
        "fails it with nothing_to_remove",
    )
    callback_url: str | None = Field(None, max_length=2048)
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
