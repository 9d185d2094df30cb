"""Decoding untrusted bytes: formats, conversions, and every failure with its code."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.decode import decode_image
from canvasfill.imaging.limits import AILAB, NATIVE, ImageLimits
from tests.conftest import encode


def _code(data: bytes, limits: ImageLimits = NATIVE) -> ErrorCode:
    with pytest.raises(InputError) as caught:
        decode_image(data, limits)
    return caught.value.code


def test_png_decodes_to_exact_rgb(small_photo: np.ndarray) -> None:
    decoded = decode_image(encode(small_photo, "PNG"))
    assert decoded.format == "PNG"
    assert decoded.alpha is None
    assert np.array_equal(decoded.rgb, small_photo)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_lossy_formats_decode(small_photo: np.ndarray, fmt: str) -> None:
    decoded = decode_image(encode(small_photo, fmt, quality=95))
    assert decoded.format == fmt
    assert decoded.rgb.shape == small_photo.shape
    assert np.abs(decoded.rgb.astype(int) - small_photo.astype(int)).mean() < 6


def test_rgba_keeps_alpha(small_photo: np.ndarray) -> None:
    alpha = np.tile(np.arange(160, dtype=np.uint8), (120, 1))
    decoded = decode_image(encode(np.dstack([small_photo, alpha]), "PNG"))
    assert decoded.alpha is not None
    assert np.array_equal(decoded.alpha, alpha)
    assert np.array_equal(decoded.rgb, small_photo)


def test_grey_becomes_rgb() -> None:
    grey = np.tile(np.arange(200, dtype=np.uint8), (100, 1))
    decoded = decode_image(encode(grey, "PNG"))
    assert decoded.rgb.shape == (100, 200, 3)
    assert np.array_equal(decoded.rgb[:, :, 0], grey)
    assert np.array_equal(decoded.rgb[:, :, 2], grey)


def test_sixteen_bit_grey_keeps_top_byte() -> None:
    wide = (np.tile(np.arange(100, dtype=np.uint16), (80, 1)) * 600).astype(np.uint16)
    decoded = decode_image(encode(Image.fromarray(wide), "PNG"))
    assert np.array_equal(decoded.rgb[:, :, 1], (wide >> 8).astype(np.uint8))


def test_palette_with_transparency_becomes_alpha() -> None:
    image = Image.new("P", (80, 80), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (40, 0, 80, 80))
    decoded = decode_image(encode(image, "PNG", transparency=0))
    assert decoded.alpha is not None
    assert decoded.alpha[0, 0] == 0
    assert decoded.alpha[0, 79] == 255
    assert tuple(decoded.rgb[0, 79]) == (0, 255, 0)


def test_cmyk_jpeg_becomes_rgb() -> None:
    decoded = decode_image(encode(Image.new("CMYK", (90, 70), (0, 255, 255, 0)), "JPEG"))
    assert decoded.rgb.shape == (70, 90, 3)
    red, green, blue = decoded.rgb[35, 45].astype(int)
    assert red > 200
    assert green < 60
    assert blue < 60


def test_exif_orientation_is_applied(small_photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to display
    data = encode(Image.fromarray(small_photo), "JPEG", exif=exif.tobytes(), quality=95)
    decoded = decode_image(data)
    assert decoded.size == (120, 160)
    upright = np.rot90(small_photo, k=-1)
    assert np.abs(decoded.rgb.astype(int) - upright.astype(int)).mean() < 6


def test_not_an_image() -> None:
    assert _code(b"this is plain text, not pixels") is ErrorCode.INVALID_IMAGE


def test_truncated_file(small_photo: np.ndarray) -> None:
    data = encode(small_photo, "JPEG")
    assert _code(data[: len(data) // 2]) is ErrorCode.TRUNCATED_IMAGE


def test_corrupt_png_data(small_photo: np.ndarray) -> None:
    data = bytearray(encode(small_photo, "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 2 : start + 60] = b"\xff" * 58  # breaks the zlib stream, not the header
    assert _code(bytes(data)) in (ErrorCode.INVALID_IMAGE, ErrorCode.TRUNCATED_IMAGE)


def test_wrong_format_for_the_door(small_photo: np.ndarray) -> None:
    assert _code(encode(small_photo, "WEBP"), AILAB) is ErrorCode.UNSUPPORTED_FORMAT
    assert _code(encode(small_photo, "GIF")) is ErrorCode.UNSUPPORTED_FORMAT


def test_animated_image_is_refused() -> None:
    frames = [Image.new("RGB", (80, 80), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    assert _code(buffer.getvalue()) is ErrorCode.ANIMATED_IMAGE


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size; its pixel data is a few bytes (a bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused_before_decoding() -> None:
    assert _code(_png_header_only(60000, 60000)) is ErrorCode.DECOMPRESSION_BOMB


def test_file_too_large_is_checked_first() -> None:
    assert _code(b"\x00" * (AILAB.max_bytes + 1), AILAB) is ErrorCode.FILE_TOO_LARGE


def test_dimension_limits_use_the_upright_size() -> None:
    limits = ImageLimits(name="t", formats=frozenset({"JPEG"}), max_bytes=10**7, max_side=150)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.new("RGB", (100, 140)), "JPEG", exif=exif.tobytes())
    assert decode_image(data, limits).size == (140, 100)
    assert _code(encode(Image.new("RGB", (160, 100)), "JPEG"), limits) is ErrorCode.IMAGE_TOO_LARGE
