"""Mask files: the forms AILabTools accepts, the ones it refuses, and mask helpers."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.masks import (
    LENIENT,
    STRICT,
    decode_mask,
    from_rectangles,
    grow,
    require_something_to_fill,
    threshold,
)
from tests.conftest import encode

SIZE = (64, 48)


def _grey() -> np.ndarray:
    grey = np.zeros((48, 64), dtype=np.uint8)
    grey[10:20, 10:30] = 255
    grey[30:35, 40:50] = 200
    grey[40:45, 0:5] = 100  # below the threshold: kept
    return grey


def _expected() -> np.ndarray:
    return _grey() >= 128


def test_strict_accepts_grey() -> None:
    assert np.array_equal(decode_mask(encode(_grey()), SIZE, STRICT), _expected())


def test_strict_accepts_rgb_with_equal_channels() -> None:
    rgb = np.repeat(_grey()[:, :, None], 3, axis=2)
    assert np.array_equal(decode_mask(encode(rgb), SIZE, STRICT), _expected())


def test_strict_accepts_rgba_with_opaque_alpha() -> None:
    rgba = np.dstack([np.repeat(_grey()[:, :, None], 3, axis=2), np.full((48, 64), 255, np.uint8)])
    assert np.array_equal(decode_mask(encode(rgba), SIZE, STRICT), _expected())


def _strict_refusal(data: bytes, size: tuple[int, int] = SIZE) -> InputError:
    with pytest.raises(InputError) as caught:
        decode_mask(data, size, STRICT)
    return caught.value


def test_strict_refuses_coloured_rgb() -> None:
    rgb = np.repeat(_grey()[:, :, None], 3, axis=2)
    rgb[0, 0] = (255, 0, 0)
    error = _strict_refusal(encode(rgb))
    assert error.code is ErrorCode.INVALID_MASK
    assert error.field == "mask"


def test_strict_refuses_translucent_alpha() -> None:
    alpha = np.full((48, 64), 255, np.uint8)
    alpha[5, 5] = 254
    rgba = np.dstack([np.repeat(_grey()[:, :, None], 3, axis=2), alpha])
    assert _strict_refusal(encode(rgba)).code is ErrorCode.INVALID_MASK


def test_strict_refuses_jpeg() -> None:
    assert _strict_refusal(encode(_grey(), "JPEG")).code is ErrorCode.INVALID_MASK


def test_strict_refuses_icc_profile() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.fromarray(_grey()), "PNG", icc_profile=profile)
    assert _strict_refusal(data).code is ErrorCode.MASK_HAS_ICC_PROFILE


def test_strict_refuses_sixteen_bit() -> None:
    wide = Image.fromarray(_grey().astype(np.uint16) * 257)
    assert _strict_refusal(encode(wide)).code is ErrorCode.INVALID_MASK


def test_size_must_match() -> None:
    error = _strict_refusal(encode(_grey()), (65, 48))
    assert error.code is ErrorCode.MASK_SIZE_MISMATCH
    assert "64x48" in error.message
    assert "65x48" in error.message


def test_lenient_reads_luminance_and_alpha() -> None:
    rgba = np.zeros((48, 64, 4), dtype=np.uint8)
    rgba[:, :, :3] = 255
    rgba[:, :32, 3] = 255  # white and opaque: fill; white but transparent: keep
    mask = decode_mask(encode(rgba), SIZE, LENIENT)
    assert mask[:, :32].all()
    assert not mask[:, 32:].any()


def test_lenient_accepts_jpeg() -> None:
    mask = decode_mask(encode(_grey(), "JPEG", quality=95), SIZE, LENIENT)
    assert mask[12, 15]
    assert not mask[0, 0]


def test_not_an_image_is_a_mask_error() -> None:
    with pytest.raises(InputError) as caught:
        decode_mask(b"GIF89a not really", SIZE)
    assert caught.value.field == "mask"


def test_threshold() -> None:
    grey = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    assert threshold(grey).tolist() == [[False, False, True, True]]


def test_grow_dilates_roundly() -> None:
    mask = np.zeros((21, 21), dtype=bool)
    mask[10, 10] = True
    grown = grow(mask, 3)
    assert grown[10, 7]
    assert grown[7, 10]
    assert grown[10, 13]
    assert not grown[7, 7]  # a corner at distance 4.2 stays outside a radius-3 disc
    assert grow(mask, 0) is mask


def test_rectangles_are_clipped_to_the_image() -> None:
    mask = from_rectangles((20, 10), [(15, 5, 10, 10), (0, 0, 2, 2)])
    assert int(mask.sum()) == 5 * 5 + 4
    assert mask[9, 19]
    assert mask[1, 1]


@pytest.mark.parametrize("box", [(30, 0, 5, 5), (0, 0, 0, 5), (-10, -10, 5, 5)])
def test_rectangles_outside_or_empty_are_refused(box: tuple[int, int, int, int]) -> None:
    with pytest.raises(InputError) as caught:
        from_rectangles((20, 10), [box])
    assert caught.value.code is ErrorCode.INVALID_PARAMETER


def test_an_empty_mask_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        require_something_to_fill(np.zeros((4, 4), dtype=bool))
    assert caught.value.code is ErrorCode.EMPTY_MASK


def _palette_png(transparency: bool = False) -> bytes:
    image = Image.fromarray(_grey()).convert("P")
    buffer = io.BytesIO()
    if transparency:
        image.save(buffer, format="PNG", transparency=0)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("transparency", [False, True])
def test_strict_refuses_a_palette_mask_even_with_a_grey_palette(transparency: bool) -> None:
    # compat-notes: 8-bit grey, RGB with R=G=B or opaque RGBA with R=G=B; a palette PNG
    # is none of these, like mode 1 and 16-bit masks (issue 26 item 11)
    with pytest.raises(InputError) as caught:
        decode_mask(_palette_png(transparency), SIZE, STRICT)
    assert caught.value.code is ErrorCode.INVALID_MASK
    assert caught.value.field == "mask"
    assert "P" in caught.value.message


def test_strict_refuses_a_one_bit_mask() -> None:
    one_bit = Image.fromarray(_expected()).convert("1")
    with pytest.raises(InputError) as caught:
        decode_mask(encode(one_bit), SIZE, STRICT)
    assert caught.value.code is ErrorCode.INVALID_MASK


def test_lenient_reads_a_palette_mask() -> None:
    assert np.array_equal(decode_mask(_palette_png(), SIZE, LENIENT), _expected())


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares (width, height) over a few bytes of data: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (encode(_grey(), "GIF"), ErrorCode.UNSUPPORTED_FORMAT),
        (_png_declaring(60000, 60000), ErrorCode.DECOMPRESSION_BOMB),
        (b"\x00" * (50 * 1024 * 1024 + 1), ErrorCode.FILE_TOO_LARGE),
    ],
    ids=["gif", "bomb", "too-large"],
)
@pytest.mark.parametrize("field", ["mask", "mask_file"])
def test_a_refused_mask_file_names_the_mask_field(data: bytes, code: ErrorCode, field: str) -> None:
    # issue 26 item 12: these checks named "image" whatever file they looked at
    with pytest.raises(InputError) as caught:
        decode_mask(data, SIZE, LENIENT, field=field)
    assert caught.value.code is code
    assert caught.value.field == field
    assert "image" not in caught.value.message.split(";")[0], caught.value.message
