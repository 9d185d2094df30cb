"""Each dialect's image limits, at and just past every boundary."""

from __future__ import annotations

import pytest

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.limits import AILAB, KLING, NATIVE, PICWISH, STABILITY, ImageLimits


def _refusal(check: object) -> ErrorCode | None:
    try:
        check()  # type: ignore[operator]
    except InputError as exc:
        return exc.code
    return None


@pytest.mark.parametrize(
    ("limits", "size", "expected"),
    [
        # AILabTools: larger than 64x64, smaller than 4096x4096 (both exclusive)
        (AILAB, (64, 100), ErrorCode.IMAGE_TOO_SMALL),
        (AILAB, (65, 65), None),
        (AILAB, (4095, 4095), None),
        (AILAB, (4096, 100), ErrorCode.IMAGE_TOO_LARGE),
        # PicWish: min 64x64, max 4096x4096 (inclusive)
        (PICWISH, (63, 100), ErrorCode.IMAGE_TOO_SMALL),
        (PICWISH, (64, 64), None),
        (PICWISH, (4096, 4096), None),
        (PICWISH, (4097, 100), ErrorCode.IMAGE_TOO_LARGE),
        # Kling: at least 300 px each side, aspect 1:2.5 .. 2.5:1
        (KLING, (299, 400), ErrorCode.IMAGE_TOO_SMALL),
        (KLING, (300, 300), None),
        (KLING, (750, 300), None),
        (KLING, (751, 300), ErrorCode.ASPECT_RATIO_OUT_OF_RANGE),
        (KLING, (300, 750), None),
        (KLING, (300, 751), ErrorCode.ASPECT_RATIO_OUT_OF_RANGE),
        # Stability-style and native set no small bound
        (STABILITY, (1, 1), None),
        (NATIVE, (8192, 10), None),
        (NATIVE, (8193, 10), ErrorCode.IMAGE_TOO_LARGE),
    ],
)
def test_dimensions(limits: ImageLimits, size: tuple[int, int], expected: ErrorCode | None) -> None:
    assert _refusal(lambda: limits.check_dimensions(*size)) == expected


@pytest.mark.parametrize(
    ("limits", "megabytes"), [(AILAB, 5), (PICWISH, 5), (KLING, 10), (STABILITY, 10)]
)
def test_file_size_bound_is_inclusive(limits: ImageLimits, megabytes: int) -> None:
    exact = megabytes * 1024 * 1024
    assert _refusal(lambda: limits.check_file_size(exact)) is None
    assert _refusal(lambda: limits.check_file_size(exact + 1)) is ErrorCode.FILE_TOO_LARGE


@pytest.mark.parametrize(
    ("limits", "fmt", "accepted"),
    [
        (AILAB, "PNG", True),
        (AILAB, "JPEG", True),
        (AILAB, "WEBP", False),
        (KLING, "WEBP", False),
        (PICWISH, "WEBP", False),
        (STABILITY, "WEBP", True),
        (NATIVE, "GIF", False),
    ],
)
def test_formats(limits: ImageLimits, fmt: str, accepted: bool) -> None:
    refusal = _refusal(lambda: limits.check_format(fmt))
    assert refusal is (None if accepted else ErrorCode.UNSUPPORTED_FORMAT)


def test_kling_new_area_at_most_three_times() -> None:
    assert _refusal(lambda: KLING.check_canvas((400, 300), (600, 600))) is None  # exactly 3x
    refusal = _refusal(lambda: KLING.check_canvas((400, 300), (601, 600)))
    assert refusal is ErrorCode.CANVAS_TOO_LARGE


def test_error_names_the_field_and_the_bound() -> None:
    with pytest.raises(InputError) as caught:
        AILAB.check_dimensions(50, 500)
    assert caught.value.field == "image"
    assert "64" in caught.value.message
