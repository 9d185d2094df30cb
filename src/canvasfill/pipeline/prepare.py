"""Every check that can fail because of the caller's input, and the canvas plan.

Two entries, one set of checks. :func:`check` runs at acceptance, in the API process:
it refuses bad input at once but never holds the image's pixels (header checks, the
canvas plan, a streaming integrity check; only a mask is decoded, inside a shared
memory budget). :func:`prepare` runs in the worker on the stored bytes: a full decode,
the same checks, and the plan :mod:`canvasfill.pipeline.run` fills.
"""

from __future__ import annotations

from dataclasses import dataclass

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging import masks
from canvasfill.imaging.budget import MemoryBudget
from canvasfill.imaging.decode import DecodedImage, decode_image, open_header
from canvasfill.imaging.geometry import (
    CanvasPlan,
    Sides,
    expanded_size,
    plan_expansion,
    plan_in_place,
    sides_from_ratios,
)
from canvasfill.imaging.integrity import decode_cost, verify_image
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
    return PreparedJob(image=image, plan=_plan(spec, image.size, mask_bytes, limits))


def check(
    spec: JobSpec, image_bytes: bytes, mask_bytes: bytes | None, *, budget: MemoryBudget
) -> None:
    """Refuse what :func:`prepare` would refuse, without decoding the image.

    Cheapest first: the header (format, size, pixel count), the canvas an expansion
    asks for, then the file's integrity (:mod:`canvasfill.imaging.integrity`), then the
    mask or boxes, which are decoded (or drawn) inside ``budget``.
    """
    limits = _limits(spec.limits)
    image, size = open_header(image_bytes, limits)
    in_place = isinstance(spec.geometry, MaskRemoval | BoxRemoval | CanvasMask)
    if not in_place:
        _checked_sides(spec, size, limits)
    verify_image(image, image_bytes, budget, field="image")
    if in_place:
        with budget.reserve(_plan_cost(size, mask_bytes)):
            _plan(spec, size, mask_bytes, limits)


MASK_BYTES_PER_PIXEL = 3
"""What a planned mask holds beside its decode: the boolean mask, and a uint8 copy
while it is grown."""


def _plan_cost(size: tuple[int, int], mask_bytes: bytes | None) -> int:
    """Bytes an in-place plan holds at its peak: the mask file's decode, then the mask."""
    width, height = size
    cost = width * height * MASK_BYTES_PER_PIXEL
    if mask_bytes is not None:
        mask_image, (mask_width, mask_height) = open_header(mask_bytes, masks.MASK_LIMITS)
        cost = decode_cost(mask_image) + mask_width * mask_height * MASK_BYTES_PER_PIXEL
    return cost


def _limits(name: str) -> ImageLimits:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown limits {name!r}; known: {sorted(BY_NAME)}") from None


def _checked_sides(spec: JobSpec, size: tuple[int, int], limits: ImageLimits) -> Sides:
    """An expansion's sides in pixels, its canvas checked against ``limits``."""
    geometry = spec.geometry
    if isinstance(geometry, RatioExpansion):
        sides = sides_from_ratios(
            size,
            left=geometry.left,
            right=geometry.right,
            top=geometry.top,
            bottom=geometry.bottom,
        )
    else:
        assert isinstance(geometry, PixelExpansion)
        sides = Sides(geometry.left, geometry.right, geometry.top, geometry.bottom)
    limits.check_canvas(size, expanded_size(size, sides))
    return sides


def _plan(
    spec: JobSpec, size: tuple[int, int], mask_bytes: bytes | None, limits: ImageLimits
) -> CanvasPlan:
    geometry = spec.geometry
    if isinstance(geometry, RatioExpansion | PixelExpansion):
        sides = _checked_sides(spec, size, limits)
        return plan_expansion(size, sides)
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
