"""Decode untrusted image bytes into RGB pixels (plus alpha where the file has one).

Order matters: size, format and pixel count are checked from the header before any
pixel is decoded, so a decompression bomb or a 40 MB upload costs almost nothing.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.limits import NATIVE, ImageLimits

# The guard is ours (ImageLimits.max_pixels, checked before decoding); Pillow's own
# warning-or-error threshold would fire on legitimate large canvases first.
Image.MAX_IMAGE_PIXELS = None

_ORIENTATION_TAG = 0x0112
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


@dataclass(frozen=True)
class DecodedImage:
    """An upright image: ``rgb`` is HxWx3 uint8, ``alpha`` HxW uint8 or None."""

    rgb: NDArray[np.uint8]
    alpha: NDArray[np.uint8] | None
    format: str
    """The container it arrived in: ``JPEG``, ``PNG`` or ``WEBP``."""

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def open_image(data: bytes, limits: ImageLimits = NATIVE, *, field: str = "image") -> Image.Image:
    """Open and fully load ``data`` after every header check passes.

    Returns the Pillow image in its own mode, EXIF orientation applied. Use
    :func:`decode_image` for pixels; masks use this to inspect the mode first.
    """
    limits.check_file_size(len(data))
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InputError(
            ErrorCode.INVALID_IMAGE,
            f"the {field} is not an image file this service can read (expected JPEG, PNG or WebP)",
            field=field,
        ) from None
    fmt = image.format or "unknown"
    limits.check_format(fmt)
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        raise InputError(
            ErrorCode.ANIMATED_IMAGE,
            f"the {field} is animated ({image.n_frames} frames); send a single still frame",
            field=field,
        )
    width, height = image.size
    limits.check_pixel_count(width, height)
    if _orientation(image) in _TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    limits.check_dimensions(width, height)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        code = ErrorCode.TRUNCATED_IMAGE if "truncated" in str(exc) else ErrorCode.INVALID_IMAGE
        what = "cut short" if code is ErrorCode.TRUNCATED_IMAGE else "corrupt"
        raise InputError(
            code, f"the {field} file is {what} and cannot be decoded ({exc})", field=field
        ) from None
    upright = ImageOps.exif_transpose(image)
    upright.format = image.format
    return upright


def decode_image(
    data: bytes, limits: ImageLimits = NATIVE, *, field: str = "image"
) -> DecodedImage:
    """Decode ``data`` to upright 8-bit RGB, keeping alpha when the file carries it."""
    image = open_image(data, limits, field=field)
    rgb, alpha = to_rgb_alpha(image)
    return DecodedImage(rgb=rgb, alpha=alpha, format=image.format or "unknown")


def to_rgb_alpha(image: Image.Image) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None]:
    """Normalise any Pillow mode to 8-bit RGB plus an optional alpha plane.

    16-bit and 32-bit grey keep their top 8 bits (not Pillow's clipping convert), palette
    transparency becomes real alpha, CMYK goes through Pillow's conversion.
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        grey = _wide_grey_to_8bit(np.asarray(image), mode)
        return np.repeat(grey[:, :, None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])
    return np.asarray(image.convert("RGB")).copy(), None


def _wide_grey_to_8bit(pixels: NDArray[np.generic], mode: str) -> NDArray[np.uint8]:
    if mode == "F":
        scaled = np.clip(pixels.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5
        return scaled.astype(np.uint8)
    wide = pixels.astype(np.int64)
    shift = 8 if mode.startswith("I;16") or wide.max(initial=0) <= 0xFFFF else 24
    return np.clip(wide >> shift, 0, 255).astype(np.uint8)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a broken EXIF block must not make a readable image unreadable
        return 1
