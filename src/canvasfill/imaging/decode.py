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

WIDE_GREY_MODES = frozenset({"I;16", "I;16B", "I;16L", "I"})
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


def open_header(
    data: bytes, limits: ImageLimits = NATIVE, *, field: str | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """Open ``data`` and run every check its header allows; no pixel is decoded.

    Returns the opened (not loaded) Pillow image and its upright (width, height), EXIF
    orientation applied: what the caller sees, and what a mask must match. Refusals name
    ``field`` (default: the one ``limits`` check, ``image`` or ``mask``).
    """
    field = field or limits.field
    limits.check_file_size(len(data), field=field)
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InputError(
            ErrorCode.INVALID_IMAGE,
            f"the {field} is not an image file this service can read (expected JPEG, PNG or WebP)",
            field=field,
        ) from None
    fmt = image.format or "unknown"
    limits.check_format(fmt, field=field)
    frames = int(getattr(image, "n_frames", 1))
    if getattr(image, "is_animated", False) and frames > 1:
        raise InputError(
            ErrorCode.ANIMATED_IMAGE,
            f"the {field} is animated ({frames} frames); send a single still frame",
            field=field,
        )
    width, height = image.size
    limits.check_pixel_count(width, height, field=field)
    if _orientation(image) in _TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    limits.check_dimensions(width, height, field=field)
    return image, (width, height)


def open_image(
    data: bytes, limits: ImageLimits = NATIVE, *, field: str | None = None
) -> Image.Image:
    """Open and fully load ``data`` after every header check passes.

    Returns the Pillow image in its own mode, EXIF orientation applied. Use
    :func:`decode_image` for pixels; masks use this to inspect the mode first.
    """
    field = field or limits.field
    image, _size = open_header(data, limits, field=field)
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
    if mode in WIDE_GREY_MODES:
        grey = _wide_grey_to_8bit(np.asarray(image), mode)
        return np.repeat(grey[:, :, None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])
    return np.array(image.convert("RGB"), dtype=np.uint8), None


def _wide_grey_to_8bit(pixels: NDArray[np.generic], mode: str) -> NDArray[np.uint8]:
    """16-bit grey PNGs open as I;16 or I with values 0..65535: keep the top byte."""
    wide = pixels.astype(np.int64)
    shift = 8 if mode.startswith("I;16") or wide.max(initial=0) <= 0xFFFF else 24
    return np.asarray(np.clip(wide >> shift, 0, 255), dtype=np.uint8)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation from the header alone.

    ``Image.getexif()`` on a PNG decodes every pixel to look for a late eXIf chunk, so
    it must not run before the size checks; the raw block in ``info`` needs no decode.
    """
    raw = image.info.get("exif")
    if not raw:
        return 1
    try:
        exif = Image.Exif()
        exif.load(raw)
        return int(exif.get(_ORIENTATION_TAG, 1))
    except Exception:  # a broken EXIF block must not make a readable image unreadable
        return 1
