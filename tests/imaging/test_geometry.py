"""Geometry for every request shape of the four dialects, with exact sizes and offsets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.geometry import (
    Sides,
    fit_within,
    plan_expansion,
    plan_in_place,
    ratio_to_pixels,
    sides_from_ratios,
)


def test_rounding_is_half_up() -> None:
    assert ratio_to_pixels(0.25, 10, field="left") == 3  # 2.5 -> 3
    assert ratio_to_pixels(0.35, 90, field="left") == 32  # 31.5 in decimal, 31.4999.. in binary
    assert ratio_to_pixels(0.24, 10, field="left") == 2  # 2.4 -> 2


def test_tiny_positive_ratio_adds_one_pixel() -> None:
    assert ratio_to_pixels(0.001, 100, field="top") == 1
    assert ratio_to_pixels(0.0, 100, field="top") == 0


def test_negative_or_nan_ratio_is_refused() -> None:
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(InputError) as caught:
            ratio_to_pixels(bad, 100, field="bottom")
        assert caught.value.field == "bottom"


def test_ailab_defaults_point_one_each_side() -> None:
    # AILabTools and PicWish: top/bottom/left/right default 0.1 of height/width
    sides = sides_from_ratios((1000, 800), left=0.1, right=0.1, top=0.1, bottom=0.1)
    plan = plan_expansion((1000, 800), sides)
    assert plan.canvas_size == (1200, 960)
    assert plan.offset == (100, 80)


def test_ailab_full_ratio_doubles_a_side() -> None:
    plan = plan_expansion((640, 480), sides_from_ratios((640, 480), right=1.0, top=1.0))
    assert plan.canvas_size == (1280, 960)
    assert plan.offset == (0, 480)


def test_kling_reference_examples() -> None:
    # "original height 20 and value 0.1: 2"; "0.2: 4"; "width 30 and value 0.3: 9"; "0.4: 12"
    sides = sides_from_ratios((30, 20), top=0.1, bottom=0.2, left=0.3, right=0.4)
    assert sides == Sides(left=9, right=12, top=2, bottom=4)
    plan = plan_expansion((30, 20), sides)
    assert plan.canvas_size == (51, 26)
    assert plan.offset == (9, 2)


def test_kling_two_times_each_side() -> None:
    plan = plan_expansion((400, 300), sides_from_ratios((400, 300), left=2.0, right=2.0))
    assert plan.canvas_size == (2000, 300)
    assert plan.offset == (800, 0)


def test_stability_pixels_per_side() -> None:
    # the reference's own example: left 200, down 200
    plan = plan_expansion((512, 512), Sides(left=200, bottom=200))
    assert plan.canvas_size == (712, 712)
    assert plan.offset == (200, 0)
    assert plan.known_box == (200, 0, 712, 512)


def test_picwish_one_side() -> None:
    plan = plan_expansion((300, 200), sides_from_ratios((300, 200), bottom=0.5))
    assert plan.canvas_size == (300, 300)
    assert plan.offset == (0, 0)
    assert plan.fill_mask[200:].all()
    assert not plan.fill_mask[:200].any()


def test_expansion_needs_a_side() -> None:
    with pytest.raises(InputError) as caught:
        plan_expansion((100, 100), Sides())
    assert caught.value.code is ErrorCode.INVALID_PARAMETER


def test_fill_mask_is_exactly_the_new_area() -> None:
    plan = plan_expansion((40, 30), Sides(left=5, right=7, top=3, bottom=2))
    assert plan.fill_mask.shape == (35, 52)
    assert int(plan.fill_mask.sum()) == 52 * 35 - 40 * 30
    assert not plan.fill_mask[3:33, 5:45].any()


def test_canvas_mode_and_removal_keep_the_size() -> None:
    mask = np.zeros((30, 40), dtype=bool)
    mask[5:10, 5:10] = True
    plan = plan_in_place((40, 30), mask)
    assert plan.canvas_size == (40, 30)
    assert plan.offset == (0, 0)
    assert plan.fill_mask is mask


def test_in_place_mask_must_match() -> None:
    with pytest.raises(InputError) as caught:
        plan_in_place((40, 30), np.zeros((30, 41), dtype=bool))
    assert caught.value.code is ErrorCode.MASK_SIZE_MISMATCH


@pytest.mark.parametrize(
    ("size", "bounds", "expected"),
    [
        ((3000, 2000), (1920, 1920), (1920, 1280)),
        ((2000, 3000), (1920, 1920), (1280, 1920)),
        ((1000, 500), (1920, 1920), (1000, 500)),  # never scales up
        ((3000, 2000), (0, 1000), (1500, 1000)),  # 0 = no limit on that side
        ((3000, 2000), (0, 0), (3000, 2000)),
        ((1201, 799), (600, 0), (600, 399)),
    ],
)
def test_fit_within(
    size: tuple[int, int], bounds: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert fit_within(size, *bounds) == expected


@given(
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
    max_width=st.integers(0, 3000),
    max_height=st.integers(0, 3000),
)
def test_fit_within_always_fits_and_keeps_aspect(
    width: int, height: int, max_width: int, max_height: int
) -> None:
    fitted_w, fitted_h = fit_within((width, height), max_width, max_height)
    assert 1 <= fitted_w <= width
    assert 1 <= fitted_h <= height
    assert not max_width or fitted_w <= max_width
    assert not max_height or fitted_h <= max_height
    if (fitted_w, fitted_h) != (width, height):
        # aspect kept to within the rounding of one pixel on the shorter side
        assert (
            abs(fitted_w / fitted_h - width / height)
            <= width / height / min(fitted_w, fitted_h) + 1 / fitted_h
        )


@given(
    width=st.integers(1, 400),
    height=st.integers(1, 400),
    ratios=st.tuples(*(st.floats(0, 2, allow_nan=False) for _ in range(4))),
)
def test_ratio_plans_put_the_original_inside(
    width: int, height: int, ratios: tuple[float, float, float, float]
) -> None:
    sides = sides_from_ratios(
        (width, height), left=ratios[0], right=ratios[1], top=ratios[2], bottom=ratios[3]
    )
    assume(sides.any)
    plan = plan_expansion((width, height), sides)
    x0, y0, x1, y1 = plan.known_box
    assert (x1 - x0, y1 - y0) == (width, height)
    assert plan.canvas_size == (width + sides.left + sides.right, height + sides.top + sides.bottom)
    assert not plan.fill_mask[y0:y1, x0:x1].any()
