"""Every check that can fail because of the caller's input, and the canvas plan.

Doors call :func:`prepare` at acceptance so bad input is refused at once, and
``jobs.execute`` calls it again on the stored bytes before :mod:`canvasfill.pipeline.run`.
"""

from __future__ import annotations

from dataclasses import dataclass

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging import masks
from canvasfill.imaging.decode import DecodedImage, decode_image
from canvasfill.imaging.geometry import (
    CanvasPlan,
    Sides,
    plan_expansion,
    plan_in_place,
    sides_from_ratios,
)
from canvasfill.imaging.limits import BY_NAME, ImageLimits
from canvasfill.pipeline.spec import (
    BoxRemoval,
    CanvasMask,
    JobSpec,
    MaskRemoval,
    PixelExpansion,
    RatioExpansion,
)


@dataclass(frozen=True)
class PreparedJob:
    image: DecodedImage
    plan: CanvasPlan


def prepare(spec: JobSpec, image_bytes: bytes, mask_bytes: bytes | None = None) -> PreparedJob:
    """Decode and validate the inputs and plan the canvas; raises ``InputError``."""
    limits = _limits(spec.limits)
    image = decode_image(image_bytes, limits)
    return PreparedJob(image=image, plan=_plan(spec, image, mask_bytes, limits))


def _limits(name: str) -> ImageLimits:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown limits {name!r}; known: {sorted(BY_NAME)}") from None


def _plan(
    spec: JobSpec, image: DecodedImage, mask_bytes: bytes | None, limits: ImageLimits
) -> CanvasPlan:
    geometry = spec.geometry
    size = image.size
    if isinstance(geometry, RatioExpansion | PixelExpansion):
        if isinstance(geometry, RatioExpansion):
            sides = sides_from_ratios(
                size,
                left=geometry.left,
                right=geometry.right,
                top=geometry.top,
                bottom=geometry.bottom,
            )
        else:
            sides = Sides(geometry.left, geometry.right, geometry.top, geometry.bottom)
        plan = plan_expansion(size, sides)
        limits.check_canvas(size, plan.canvas_size)
        return plan
    if isinstance(geometry, BoxRemoval):
        boxes = [(box.x, box.y, box.width, box.height) for box in geometry.boxes]
        fill = masks.grow(masks.from_rectangles(size, boxes), geometry.grow)
    else:
        if mask_bytes is None:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                "a mask image is required for this request",
                field="mask",
            )
        rules = masks.STRICT if spec.strict_mask else masks.LENIENT
        fill = masks.decode_mask(mask_bytes, size, rules)
        if isinstance(geometry, MaskRemoval):
            fill = masks.grow(fill, geometry.grow)
        else:
            assert isinstance(geometry, CanvasMask)
    masks.require_something_to_fill(fill)
    return plan_in_place(size, fill)
