"""Encoding: formats, alpha handling, quality."""

from __future__ import annotations

import numpy as np
import pytest

from canvasfill.errors import InputError
from canvasfill.imaging.encode import OutputFormat, encode_image
from tests.conftest import decode_pixels


def test_png_is_lossless_and_keeps_alpha(small_photo: np.ndarray) -> None:
    alpha = np.full(small_photo.shape[:2], 128, dtype=np.uint8)
    pixels = decode_pixels(encode_image(small_photo, OutputFormat.PNG, alpha=alpha))
    assert np.array_equal(pixels[:, :, :3], small_photo)
    assert (pixels[:, :, 3] == 128).all()


def test_jpeg_drops_alpha_and_quality_changes_size(small_photo: np.ndarray) -> None:
    alpha = np.zeros(small_photo.shape[:2], dtype=np.uint8)
    high = encode_image(small_photo, OutputFormat.JPEG, alpha=alpha, quality=95)
    low = encode_image(small_photo, OutputFormat.JPEG, quality=30)
    assert high[:3] == b"\xff\xd8\xff"
    assert len(low) < len(high)
    assert decode_pixels(high).shape == small_photo.shape


def test_webp_keeps_alpha(small_photo: np.ndarray) -> None:
    alpha = np.full(small_photo.shape[:2], 255, dtype=np.uint8)
    alpha[0:10] = 0
    data = encode_image(small_photo, OutputFormat.WEBP, alpha=alpha)
    assert data[8:12] == b"WEBP"
    assert decode_pixels(data).shape == (*small_photo.shape[:2], 4)


@pytest.mark.parametrize(("text", "fmt"), [("PNG", "png"), ("jpg", "jpeg"), (" webp", "webp")])
def test_parse(text: str, fmt: str) -> None:
    assert OutputFormat.parse(text).value == fmt


def test_parse_refuses_unknown() -> None:
    with pytest.raises(InputError) as caught:
        OutputFormat.parse("gif")
    assert caught.value.field == "output_format"


def test_png_levels_change_the_bytes_not_the_pixels(small_photo: np.ndarray) -> None:
    fast = encode_image(small_photo, OutputFormat.PNG, png_compress_level=1)
    small = encode_image(small_photo, OutputFormat.PNG, png_compress_level=9)
    assert np.array_equal(decode_pixels(fast), decode_pixels(small))
    assert fast != small
