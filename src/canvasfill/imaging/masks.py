"""Masks: what to fill. White (>= threshold) marks pixels to generate or remove.

AILabTools states exactly which mask files it takes (8-bit grey; RGB with R=G=B; RGBA
with R=G=B and alpha 255; PNG without an ICC profile). ``STRICT`` enforces those
rules; ``LENIENT`` (native API, CLI) accepts any still image and reads its luminance.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.decode import WIDE_GREY_MODES, open_image, to_rgb_alpha
from canvasfill.imaging.limits import JPEG_PNG_WEBP, NATIVE, ImageLimits

Mask = NDArray[np.bool_]
"""HxW, True where the engine must fill."""


@dataclass(frozen=True)
class MaskRules:
    strict_channels: bool
    """Only grey, R=G=B, or R=G=B with opaque alpha; else luminance of anything."""
    png_only: bool
    allow_icc_profile: bool
    threshold: int = 128


STRICT = MaskRules(strict_channels=True, png_only=True, allow_icc_profile=False)
LENIENT = MaskRules(strict_channels=False, png_only=False, allow_icc_profile=True)

MASK_LIMITS = ImageLimits(
    name="mask", formats=JPEG_PNG_WEBP, max_bytes=NATIVE.max_bytes, field="mask"
)


def decode_mask(
    data: bytes,
    expected_size: tuple[int, int],
    rules: MaskRules = LENIENT,
    *,
    field: str = "mask",
) -> Mask:
    """Decode a mask file and check it against ``rules`` and the image's (w, h)."""
    image = open_image(data, MASK_LIMITS, field=field)
    if rules.png_only and image.format != "PNG":
        raise InputError(
            ErrorCode.INVALID_MASK,
            f"the mask must be an 8-bit PNG, not {(image.format or 'unknown').lower()}",
            field=field,
        )
    if not rules.allow_icc_profile and image.info.get("icc_profile"):
        raise InputError(
            ErrorCode.MASK_HAS_ICC_PROFILE,
            "the mask PNG embeds an ICC profile; save it without one",
            field=field,
        )
    if image.size != expected_size:
        raise InputError(
            ErrorCode.MASK_SIZE_MISMATCH,
            f"the mask is {image.size[0]}x{image.size[1]} but the image is "
            f"{expected_size[0]}x{expected_size[1]}; they must be the same size",
            field=field,
        )
    grey = _strict_grey(image, field) if rules.strict_channels else _luminance(image)
    return threshold(grey, rules.threshold)


def decode_alpha_mask(data: bytes, expected_size: tuple[int, int], *, field: str = "mask") -> Mask:
    """A mask file whose fully transparent pixels (alpha 0) mark what to fill (OpenAI's
    mask): its colours mean nothing, so a file without an alpha channel is refused."""
    image = open_image(data, MASK_LIMITS, field=field)
    if image.size != expected_size:
        raise InputError(
            ErrorCode.MASK_SIZE_MISMATCH,
            f"the mask is {image.size[0]}x{image.size[1]} but the image is "
            f"{expected_size[0]}x{expected_size[1]}; they must be the same size",
            field=field,
        )
    alpha = to_rgb_alpha(image)[1]
    if alpha is None:
        raise InputError(
            ErrorCode.INVALID_MASK,
            "the mask has no alpha channel; send a PNG whose fully transparent pixels "
            "(alpha 0) mark the area to fill",
            field=field,
        )
    return transparent(alpha)


def transparent(alpha: NDArray[np.uint8]) -> Mask:
    """True where ``alpha`` is 0: the pixels a transparency-marked edit fills."""
    return np.asarray(alpha == 0)


def _strict_grey(image: Image.Image, field: str) -> NDArray[np.uint8]:
    """Only the modes the reference names: a palette (P), 1-bit or 16-bit mask is none of
    them, whatever colours it holds, and is refused as the reference refuses it."""
    mode = image.mode
    if mode == "L":
        return np.asarray(image)
    if mode in ("RGB", "RGBA"):
        pixels = np.asarray(image)
        red, green, blue = pixels[:, :, 0], pixels[:, :, 1], pixels[:, :, 2]
        if not (np.array_equal(red, green) and np.array_equal(green, blue)):
            raise InputError(
                ErrorCode.INVALID_MASK,
                "the mask's red, green and blue values differ; send a greyscale mask "
                "(or RGB with R=G=B)",
                field=field,
            )
        if mode == "RGBA" and not bool((pixels[:, :, 3] == 255).all()):
            raise InputError(
                ErrorCode.INVALID_MASK,
                "the mask's alpha channel is not fully opaque; alpha must be 255 everywhere",
                field=field,
            )
        return np.ascontiguousarray(red)
    raise InputError(
        ErrorCode.INVALID_MASK,
        f"mask mode {mode} is not accepted; send an 8-bit greyscale, RGB or RGBA PNG "
        "(not a palette, 1-bit or 16-bit one)",
        field=field,
    )


def _luminance(image: Image.Image) -> NDArray[np.uint8]:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        grey = np.asarray(rgba.convert("L")).astype(np.uint16)
        alpha = np.asarray(rgba)[:, :, 3].astype(np.uint16)
        # transparent pixels count as "keep": scale the luminance by alpha
        return ((grey * alpha) // 255).astype(np.uint8)
    if image.mode in WIDE_GREY_MODES:
        return to_rgb_alpha(image)[0][:, :, 0]
    return np.asarray(image.convert("L"))


def threshold(grey: NDArray[np.uint8], level: int = 128) -> Mask:
    """True where ``grey >= level``."""
    return np.asarray(grey >= level)


def grow(mask: Mask, pixels: int) -> Mask:
    """Dilate ``mask`` by ``pixels`` with a round kernel (covers halos round objects)."""
    if pixels < 0:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "grow must be zero or a positive number of pixels",
            field="grow_mask",
        )
    if pixels == 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    grown = cv2.dilate(mask.astype(np.uint8), kernel)
    return np.asarray(grown > 0)


def from_rectangles(
    size: tuple[int, int],
    rectangles: Iterable[tuple[int, int, int, int]],
    *,
    field: str = "rectangles",
) -> Mask:
    """A mask from (x, y, width, height) boxes on an image of (w, h); boxes are clipped."""
    width, height = size
    mask = np.zeros((height, width), dtype=bool)
    for index, (x, y, w, h) in enumerate(rectangles):
        if w <= 0 or h <= 0:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"rectangle {index} has width {w} and height {h}; both must be positive",
                field=field,
            )
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, width), min(y + h, height)
        if x0 >= x1 or y0 >= y1:
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"rectangle {index} ({x},{y},{w},{h}) lies outside the {width}x{height} image",
                field=field,
            )
        mask[y0:y1, x0:x1] = True
    return mask


def require_something_to_fill(mask: Mask, *, field: str = "mask") -> None:
    """An all-black mask is a caller mistake: there is nothing to generate.

    So is an all-white one: with nothing to keep there is nothing to fill from (one
    engine returns the input, another a flat grey), and the caller would pay for it.
    """
    if not bool(mask.any()):
        raise InputError(
            ErrorCode.EMPTY_MASK,
            "the mask marks no pixel to fill; paint the area to fill white (255)",
            field=field,
        )
    if bool(mask.all()):
        raise InputError(
            ErrorCode.FULL_MASK,
            "the mask marks every pixel, so there is nothing to keep and nothing to fill "
            "from; leave the part to keep black (0)",
            field=field,
        )


def encode_mask(mask: Mask, *, png_compress_level: int = 1) -> bytes:
    """``mask`` as an 8-bit grey PNG, 255 where True and 0 elsewhere: the form every
    door reads back as a mask, so a returned mask can be edited and sent again."""
    # a bool's byte is 0 or 1: times 255 is the grey level (30x faster than np.where)
    grey = np.ascontiguousarray(mask, dtype=np.bool_).view(np.uint8) * np.uint8(255)
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="PNG", compress_level=png_compress_level)
    return buffer.getvalue()
