"""Every check that can fail because of the caller's input, and the canvas plan.

Two entries, one set of checks. :func:`check` runs at acceptance, in the API process:
it refuses bad input at once but never holds the image's pixels (header checks, the
canvas plan, a streaming integrity check; only a mask is decoded, inside a shared
memory budget). :func:`prepare` runs in the worker on the stored bytes: a full decode,
the same checks, and the plan :mod:`canvasfill.pipeline.run` fills.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

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
    AlphaMask,
    BoxRemoval,
    CanvasMask,
    DetectedMask,
    JobSpec,
    MaskRemoval,
    PixelExpansion,
    RatioExpansion,
)


@dataclass(frozen=True)
class PreparedJob:
    image: DecodedImage
    plan: CanvasPlan
    keep_out: masks.Mask | None = None
    """Canvas pixels the fill takes no source from (``JobSpec.keep_out`` found in the
    original); None when none was asked for or nothing was found."""


def prepare(spec: JobSpec, image_bytes: bytes, mask_bytes: bytes | None = None) -> PreparedJob:
    """Decode and validate the inputs and plan the canvas; raises ``InputError``."""
    limits = _limits(spec.limits)
    image = decode_image(image_bytes, limits)
    plan = _plan(spec, image.size, mask_bytes, limits, lambda: image.alpha, lambda: image.rgb)
    keep_out = _kept_out(spec, image.rgb, plan) if spec.keep_out else None
    return PreparedJob(image=image, plan=plan, keep_out=keep_out)


def _kept_out(spec: JobSpec, rgb: np.ndarray, plan: CanvasPlan) -> masks.Mask | None:
    """What ``spec.keep_out`` finds in the original, placed on the canvas (known pixels
    only: canvas mode's own fill is no source anyway)."""
    from canvasfill.engines.detect import detect

    found = detect(spec.keep_out, rgb)
    if not bool(found.any()):
        return None
    width, height = plan.canvas_size
    x, y = plan.offset
    placed = np.zeros((height, width), dtype=np.bool_)
    placed[y : y + found.shape[0], x : x + found.shape[1]] = found
    return placed & ~plan.fill_mask


def check(
    spec: JobSpec, image_bytes: bytes, mask_bytes: bytes | None, *, budget: MemoryBudget
) -> None:
    """Refuse what :func:`prepare` would refuse, without decoding the image.

    Cheapest first: the header (format, size, pixel count), the canvas an expansion
    asks for, then the file's integrity (:mod:`canvasfill.imaging.integrity`), then the
    mask or boxes, which are decoded (or drawn) inside ``budget``. Detection
    (``DetectedMask``) is never run here: only its painted mask and boxes are checked.
    """
    limits = _limits(spec.limits)
    image, size = open_header(image_bytes, limits)
    in_place = isinstance(
        spec.geometry, MaskRemoval | BoxRemoval | CanvasMask | AlphaMask | DetectedMask
    )
    if not in_place:
        _checked_sides(spec, size, limits)
    verify_image(image, image_bytes, budget, field="image")
    if in_place:
        with budget.reserve(_plan_cost(spec, image, size, mask_bytes)):
            _plan(
                spec,
                size,
                mask_bytes,
                limits,
                lambda: decode_image(image_bytes, limits).alpha,
                image_rgb=None,
            )


MASK_BYTES_PER_PIXEL = 3
"""What a planned mask holds beside its decode: the boolean mask, and a uint8 copy
while it is grown."""


ALPHA_DECODE_BYTES_PER_PIXEL = 8
"""What decoding the image for its alpha holds beside Pillow's copy: RGBA, then the
RGB and alpha planes split from it."""


def _plan_cost(
    spec: JobSpec, image: Image.Image, size: tuple[int, int], mask_bytes: bytes | None
) -> int:
    """Bytes an in-place plan holds at its peak: the mask file's decode, then the mask;
    a plan from the image's own alpha decodes the image itself."""
    width, height = size
    cost = width * height * MASK_BYTES_PER_PIXEL
    if mask_bytes is not None:
        mask_image, (mask_width, mask_height) = open_header(mask_bytes, masks.MASK_LIMITS)
        cost = decode_cost(mask_image) + mask_width * mask_height * MASK_BYTES_PER_PIXEL
    if isinstance(spec.geometry, AlphaMask) and spec.geometry.source == "image":
        cost = decode_cost(image) + width * height * (
            ALPHA_DECODE_BYTES_PER_PIXEL + MASK_BYTES_PER_PIXEL
        )
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


ImageAlpha = Callable[[], NDArray[np.uint8] | None]
"""The decoded image's alpha plane (None: the image has none), asked for only by a plan
from the image's own transparency."""

ImageRgb = Callable[[], NDArray[np.uint8]]
"""The decoded image's RGB pixels, asked for only by detection (on the worker)."""


def _plan(
    spec: JobSpec,
    size: tuple[int, int],
    mask_bytes: bytes | None,
    limits: ImageLimits,
    image_alpha: ImageAlpha,
    image_rgb: ImageRgb | None,
) -> CanvasPlan:
    """The canvas plan; ``image_rgb`` None (acceptance) checks a detected mask's request
    without detecting anything."""
    geometry = spec.geometry
    if isinstance(geometry, RatioExpansion | PixelExpansion):
        sides = _checked_sides(spec, size, limits)
        return plan_expansion(size, sides)
    if isinstance(geometry, AlphaMask):
        return plan_in_place(size, _alpha_fill(geometry, size, mask_bytes, image_alpha))
    if isinstance(geometry, DetectedMask):
        return plan_in_place(size, _detected_fill(spec, geometry, size, mask_bytes, image_rgb))
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


def _detected_fill(
    spec: JobSpec,
    geometry: DetectedMask,
    size: tuple[int, int],
    mask_bytes: bytes | None,
    image_rgb: ImageRgb | None,
) -> masks.Mask:
    """What detection finds, with the painted mask and boxes added, grown.

    Detection finding nothing is ``nothing_to_remove`` when no painted mask or box
    marks anything either: the caller asked for a removal, and an unchanged image
    would hide that nothing was found."""
    width, height = size
    painted = np.zeros((height, width), dtype=np.bool_)
    if geometry.boxes:
        rectangles = [(box.x, box.y, box.width, box.height) for box in geometry.boxes]
        painted |= masks.from_rectangles(size, rectangles)
    if mask_bytes is not None:
        rules = masks.STRICT if spec.strict_mask else masks.LENIENT
        painted |= masks.decode_mask(mask_bytes, size, rules)
    if image_rgb is None:  # acceptance: the painted part is checked, nothing is detected
        return masks.grow(painted, geometry.grow)
    from canvasfill.engines.detect import detect

    found = detect(geometry.detect, image_rgb())
    if not bool(found.any()) and not bool(painted.any()):
        what = " or ".join(geometry.detect)
        advice = (
            "paint the mask by hand instead"
            if spec.mask_only
            else "paint a mask or give boxes for what to remove"
        )
        raise InputError(
            ErrorCode.NOTHING_TO_REMOVE,
            f"no {what} was found in the image, so there is nothing to remove; {advice}",
            field="detect",
        )
    fill = masks.grow(found | painted, geometry.grow)
    # a mask that is only shown may cover everything: the caller edits it before a fill
    if bool(fill.all()) and not spec.mask_only:
        raise InputError(
            ErrorCode.FULL_MASK,
            f"what was found ({', '.join(geometry.detect)}) covers the whole image, so "
            "nothing is left to fill from",
            field="detect",
        )
    return fill


def _alpha_fill(
    geometry: AlphaMask, size: tuple[int, int], mask_bytes: bytes | None, image_alpha: ImageAlpha
) -> masks.Mask:
    """The fully transparent pixels of the mask file, or of the image itself, grown."""
    if geometry.source == "mask":
        if mask_bytes is None:
            raise InputError(ErrorCode.MISSING_PARAMETER, "mask is required", field="mask")
        fill = masks.decode_alpha_mask(mask_bytes, size)
        whose = "the mask"
    else:
        alpha = image_alpha()
        if alpha is None or not bool((alpha == 0).any()):
            raise InputError(
                ErrorCode.EMPTY_MASK,
                "the image has no transparent pixels and no mask was sent: send a mask, or "
                "an image whose fully transparent pixels (alpha 0) mark the area to fill",
                field="mask",
            )
        fill = masks.transparent(alpha)
        whose = "the image"
    fill = masks.grow(fill, geometry.grow)
    if not bool(fill.any()):
        raise InputError(
            ErrorCode.EMPTY_MASK,
            f"{whose} has no fully transparent pixel (alpha 0), so nothing is marked to "
            "fill; make the area to fill transparent",
            field="mask",
        )
    if bool(fill.all()):
        raise InputError(
            ErrorCode.FULL_MASK,
            f"every pixel of {whose} is transparent, so there is nothing to keep and "
            "nothing to fill from; keep the part to keep opaque",
            field="mask",
        )
    return fill
