"""Input limits as data: one record per dialect, one validation path for all of them.

The numbers come from ``shared/specs`` and ``compat-notes.md``. A dialect picks its
record; nothing else in the code base hard-codes a size, a format list or a ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

from canvasfill.errors import ErrorCode, InputError

MEGABYTE = 1024 * 1024

MAX_EXPAND_RATIO = 10.0
"""The most an expansion may add to one side, as a fraction of the original's width
(left/right) or height: the native API's ``ratios`` and the CLI's ``--left`` ... alike."""
MAX_EXPAND_PIXELS = 8192
"""The most an expansion may add to one side in pixels (``pixels``, ``--left-px`` ...)."""


@dataclass(frozen=True)
class ImageLimits:
    """What one door accepts as an input image and what canvas it may ask for.

    ``min_side``/``max_side`` are inclusive bounds unless the ``*_exclusive`` flag says
    the reference wrote "larger than" / "smaller than".
    """

    name: str
    formats: frozenset[str]
    max_bytes: int
    min_side: int = 1
    max_side: int = 8192
    min_side_exclusive: bool = False
    max_side_exclusive: bool = False
    max_pixels: int = 8192 * 8192
    """Checked from the header before any pixel is decoded: the decompression-bomb guard."""
    min_aspect: float | None = None
    max_aspect: float | None = None
    max_area_growth: float | None = None
    """Largest canvas area as a multiple of the original's (Kling: 3)."""
    max_canvas_pixels: int = 8192 * 8192
    field: str = "image"
    """The request field these limits check (``mask`` for a mask file): refusals name it,
    so a caller told "gif is not accepted" knows which of its two files is meant. Each
    check also takes ``field=`` for a caller that knows better."""

    def check_file_size(self, size: int, *, field: str | None = None) -> None:
        name = field or self.field
        if size > self.max_bytes:
            raise InputError(
                ErrorCode.FILE_TOO_LARGE,
                f"the {name} file is {size / MEGABYTE:.1f} MB; send at most "
                f"{self.max_bytes / MEGABYTE:g} MB",
                field=name,
            )

    def check_format(self, fmt: str, *, field: str | None = None) -> None:
        name = field or self.field
        if fmt.upper() not in self.formats:
            allowed = ", ".join(sorted(f.lower() for f in self.formats))
            raise InputError(
                ErrorCode.UNSUPPORTED_FORMAT,
                f"{fmt.lower()} {name}s are not accepted here; send one of: {allowed}",
                field=name,
            )

    def check_pixel_count(self, width: int, height: int, *, field: str | None = None) -> None:
        name = field or self.field
        if width * height > self.max_pixels:
            raise InputError(
                ErrorCode.DECOMPRESSION_BOMB,
                f"the {name} declares {width}x{height} pixels, more than the "
                f"{self.max_pixels:,} this service decodes; send a smaller {name}",
                field=name,
            )

    def check_dimensions(self, width: int, height: int, *, field: str | None = None) -> None:
        name = field or self.field
        low, high = min(width, height), max(width, height)
        too_small = low <= self.min_side if self.min_side_exclusive else low < self.min_side
        too_large = high >= self.max_side if self.max_side_exclusive else high > self.max_side
        if too_small:
            bound = "larger than" if self.min_side_exclusive else "at least"
            raise InputError(
                ErrorCode.IMAGE_TOO_SMALL,
                f"the {name} is {width}x{height}; each side must be {bound} {self.min_side} px",
                field=name,
            )
        if too_large:
            bound = "smaller than" if self.max_side_exclusive else "at most"
            raise InputError(
                ErrorCode.IMAGE_TOO_LARGE,
                f"the {name} is {width}x{height}; each side must be {bound} {self.max_side} px",
                field=name,
            )
        aspect = width / height
        if (self.min_aspect is not None and aspect < self.min_aspect) or (
            self.max_aspect is not None and aspect > self.max_aspect
        ):
            raise InputError(
                ErrorCode.ASPECT_RATIO_OUT_OF_RANGE,
                f"the {name}'s aspect ratio (width/height) is {aspect:.3f}; it must lie between "
                f"{self.min_aspect:.3g} and {self.max_aspect:.3g}",
                field=name,
            )

    def check_canvas(self, source: tuple[int, int], canvas: tuple[int, int]) -> None:
        """Refuse an expansion whose canvas is larger than this door allows."""
        src_area = source[0] * source[1]
        area = canvas[0] * canvas[1]
        if self.max_area_growth is not None and area > self.max_area_growth * src_area:
            raise InputError(
                ErrorCode.CANVAS_TOO_LARGE,
                f"the expanded canvas {canvas[0]}x{canvas[1]} is {area / src_area:.2f}x the "
                f"original's area; at most {self.max_area_growth:g}x is allowed, so ask for "
                "smaller expansion ratios",
            )
        if area > self.max_canvas_pixels:
            raise InputError(
                ErrorCode.CANVAS_TOO_LARGE,
                f"the expanded canvas {canvas[0]}x{canvas[1]} has more than "
                f"{self.max_canvas_pixels:,} pixels; ask for a smaller expansion",
            )


JPEG_PNG = frozenset({"JPEG", "PNG"})
JPEG_PNG_WEBP = frozenset({"JPEG", "PNG", "WEBP"})

NATIVE = ImageLimits(name="native", formats=JPEG_PNG_WEBP, max_bytes=50 * MEGABYTE)
"""canvasfill's own API, the CLI and the Python API."""

AILAB = ImageLimits(
    name="ailab",
    formats=JPEG_PNG,
    max_bytes=5 * MEGABYTE,
    min_side=64,
    min_side_exclusive=True,
    max_side=4096,
    max_side_exclusive=True,
)
"""AILabTools: JPEG/PNG, <= 5 MB, larger than 64x64 and smaller than 4096x4096."""

KLING = ImageLimits(
    name="kling",
    formats=JPEG_PNG,
    max_bytes=10 * MEGABYTE,
    min_side=300,
    min_aspect=1 / 2.5,
    max_aspect=2.5,
    max_area_growth=3.0,
)
"""Kling: JPEG/PNG, <= 10 MB, sides >= 300 px, aspect 1:2.5..2.5:1, canvas <= 3x area."""

STABILITY = ImageLimits(name="stability", formats=JPEG_PNG_WEBP, max_bytes=10 * MEGABYTE)
"""Stability-style outpaint: JPEG/PNG/WebP; the reference sets no size bounds."""

PICWISH = ImageLimits(
    name="picwish", formats=JPEG_PNG, max_bytes=5 * MEGABYTE, min_side=64, max_side=4096
)
"""PicWish: JPG/PNG, <= 5 MB, between 64x64 and 4096x4096 inclusive."""

OPENAI = ImageLimits(name="openai", formats=JPEG_PNG_WEBP, max_bytes=50 * MEGABYTE)
"""OpenAI image edits: PNG, JPEG or WebP, each under 50 MB."""

STABILITY_V2 = ImageLimits(
    name="stability-v2", formats=JPEG_PNG_WEBP, max_bytes=10 * MEGABYTE, min_side=64
)
"""Stability v2beta edits: PNG, JPEG or WebP, at least 64 px a side (its ~9.4 MP input
cap is left to canvasfill's own pixel limit)."""

BY_NAME: dict[str, ImageLimits] = {
    limits.name: limits
    for limits in (NATIVE, AILAB, KLING, STABILITY, PICWISH, OPENAI, STABILITY_V2)
}
