"""Every request shape becomes one thing here: a canvas, where the original sits, what to fill.

Rounding rule (one rule for every dialect): an expansion ratio r on a side of s pixels
adds ``floor(r * s + 0.5)`` pixels (round half up), and at least 1 pixel whenever
r > 0, so a tiny positive ratio never silently does nothing. Left/right ratios are
fractions of the original width, top/bottom of the original height.

The ``max_width``/``max_height`` fallback (:func:`fit_within`) scales the *final*
result down to fit, aspect kept; 0 means no limit on that side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.masks import Mask

# ratios arrive as decimal text ("0.35"); 0.35 * 90 is 31.499999999999996 in binary
# floating point, so half-up rounding gets a nudge far below one pixel.
_ROUNDING_NUDGE = 1e-9


@dataclass(frozen=True)
class Sides:
    """Pixels to add on each side of the original."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0

    def __post_init__(self) -> None:
        for name in ("left", "right", "top", "bottom"):
            if getattr(self, name) < 0:
                raise InputError(
                    ErrorCode.INVALID_PARAMETER,
                    f"{name} must not be negative (got {getattr(self, name)})",
                    field=name,
                )

    @property
    def any(self) -> bool:
        return any((self.left, self.right, self.top, self.bottom))


@dataclass(frozen=True)
class CanvasPlan:
    """Where the original goes on the canvas and which canvas pixels must be filled."""

    canvas_size: tuple[int, int]
    """(width, height) of the canvas the engine fills."""
    offset: tuple[int, int]
    """(x, y) of the original's top-left corner on the canvas."""
    source_size: tuple[int, int]
    fill_mask: Mask
    """HxW of the canvas, True where the engine must generate pixels."""

    @property
    def known_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the original on the canvas."""
        x, y = self.offset
        return x, y, x + self.source_size[0], y + self.source_size[1]


def ratio_to_pixels(ratio: float, side: int, *, field: str) -> int:
    """Pixels added for ``ratio`` of a ``side``-pixel edge (round half up, >= 1 if r > 0)."""
    if not math.isfinite(ratio) or ratio < 0:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"{field} must be a non-negative number (got {ratio})",
            field=field,
        )
    if ratio == 0:
        return 0
    return max(1, math.floor(ratio * side + 0.5 + _ROUNDING_NUDGE))


def sides_from_ratios(
    source_size: tuple[int, int],
    *,
    left: float = 0.0,
    right: float = 0.0,
    top: float = 0.0,
    bottom: float = 0.0,
    field_names: tuple[str, str, str, str] = ("left", "right", "top", "bottom"),
) -> Sides:
    """Side ratios (of width for left/right, of height for top/bottom) to pixels."""
    width, height = source_size
    return Sides(
        left=ratio_to_pixels(left, width, field=field_names[0]),
        right=ratio_to_pixels(right, width, field=field_names[1]),
        top=ratio_to_pixels(top, height, field=field_names[2]),
        bottom=ratio_to_pixels(bottom, height, field=field_names[3]),
    )


def expanded_size(source_size: tuple[int, int], sides: Sides) -> tuple[int, int]:
    """(width, height) of the canvas ``sides`` ask for: known before any mask is drawn,
    so its limits are checked before anything of its size is allocated."""
    if not sides.any:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "at least one side must be expanded by more than 0",
        )
    width, height = source_size
    return width + sides.left + sides.right, height + sides.top + sides.bottom


def plan_expansion(source_size: tuple[int, int], sides: Sides) -> CanvasPlan:
    """The canvas grows by ``sides``; everything outside the original is filled."""
    width, height = source_size
    canvas = expanded_size(source_size, sides)
    fill = np.ones((canvas[1], canvas[0]), dtype=bool)
    fill[sides.top : sides.top + height, sides.left : sides.left + width] = False
    return CanvasPlan(
        canvas_size=canvas, offset=(sides.left, sides.top), source_size=source_size, fill_mask=fill
    )


def plan_in_place(source_size: tuple[int, int], mask: Mask) -> CanvasPlan:
    """Removal, and canvas mode: the image is the canvas and ``mask`` says what to fill."""
    width, height = source_size
    if mask.shape != (height, width):
        raise InputError(
            ErrorCode.MASK_SIZE_MISMATCH,
            f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is {width}x{height}",
            field="mask",
        )
    return CanvasPlan(
        canvas_size=source_size, offset=(0, 0), source_size=source_size, fill_mask=mask
    )


def fit_within(size: tuple[int, int], max_width: int, max_height: int) -> tuple[int, int]:
    """Largest (w, h) of the same aspect that fits in max_width x max_height (0 = no limit).

    Never scales up. Each side is rounded to the nearest pixel and kept >= 1.
    """
    width, height = size
    if max_width < 0 or max_height < 0:
        raise InputError(
            ErrorCode.INVALID_PARAMETER, "max_width and max_height must be 0 (no limit) or more"
        )
    scale = 1.0
    if max_width and width > max_width:
        scale = min(scale, max_width / width)
    if max_height and height > max_height:
        scale = min(scale, max_height / height)
    if scale >= 1.0:
        return size
    fitted_w = max(1, math.floor(width * scale + 0.5))
    fitted_h = max(1, math.floor(height * scale + 0.5))
    # rounding may overshoot a bound by one pixel; the bound wins
    if max_width:
        fitted_w = min(fitted_w, max_width)
    if max_height:
        fitted_h = min(fitted_h, max_height)
    return fitted_w, fitted_h
