"""Compositing: known pixels come back bit-exact; the seam is softened on the fill side."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from canvasfill.imaging.composite import (
    composite,
    place_alpha,
    place_on_canvas,
    scale_to,
)
from canvasfill.imaging.geometry import Sides, plan_expansion


def test_place_on_canvas_puts_the_original_at_its_offset(small_photo: np.ndarray) -> None:
    plan = plan_expansion((160, 120), Sides(left=10, top=5, right=3, bottom=1))
    canvas = place_on_canvas(small_photo, plan)
    assert canvas.shape == (126, 173, 3)
    assert np.array_equal(canvas[5:125, 10:170], small_photo)
    assert not canvas[plan.fill_mask].any()


def test_alpha_is_opaque_on_new_area() -> None:
    plan = plan_expansion((4, 3), Sides(left=2))
    alpha = np.full((3, 4), 7, dtype=np.uint8)
    placed = place_alpha(alpha, plan)
    assert placed is not None
    assert (placed[:, :2] == 255).all()
    assert (placed[:, 2:] == 7).all()
    assert place_alpha(None, plan) is None


def composite_inputs(feathers: st.SearchStrategy[int]) -> dict[str, st.SearchStrategy[Any]]:
    """Hypothesis strategies for ``composite``'s arguments on a small canvas."""
    return {
        "canvas": arrays(np.uint8, (24, 32, 3)),
        "fill": arrays(np.uint8, (24, 32, 3)),
        "mask": arrays(np.bool_, (24, 32)),
        "feather": feathers,
    }


@settings(max_examples=40, deadline=None)
@given(**composite_inputs(st.integers(0, 6)))
def test_known_pixels_are_bit_exact(
    canvas: np.ndarray, fill: np.ndarray, mask: np.ndarray, feather: int
) -> None:
    out = composite(canvas, fill, mask, feather)
    assert np.array_equal(out[~mask], canvas[~mask])


def test_deep_in_the_hole_the_fill_is_used_unchanged() -> None:
    canvas = np.zeros((40, 40, 3), dtype=np.uint8)
    fill = np.full((40, 40, 3), 200, dtype=np.uint8)
    mask = np.zeros((40, 40), dtype=bool)
    mask[5:35, 5:35] = True
    out = composite(canvas, fill, mask, feather=3)
    assert (out[12:28, 12:28] == 200).all()


def test_seam_blends_toward_the_nearest_known_colour() -> None:
    canvas = np.zeros((10, 20, 3), dtype=np.uint8)
    canvas[:, :10] = 100  # known half
    fill = np.full((10, 20, 3), 200, dtype=np.uint8)
    mask = np.zeros((10, 20), dtype=bool)
    mask[:, 10:] = True
    row = composite(canvas, fill, mask, feather=3)[5, :, 0].astype(int)
    assert row[9] == 100  # known: exact
    assert 100 < row[10] < row[11] < row[12] < 200  # ramps up across the seam
    assert (row[14:] == 200).all()


def test_no_feather_is_a_plain_paste() -> None:
    canvas = np.zeros((8, 8, 3), dtype=np.uint8)
    fill = np.full((8, 8, 3), 9, dtype=np.uint8)
    mask = np.eye(8, dtype=bool)
    out = composite(canvas, fill, mask, feather=0)
    assert (out[mask] == 9).all()
    assert (out[~mask] == 0).all()


def test_nearest_known_colour_is_looked_up_correctly() -> None:
    # each known column has its own colour; a hole pixel next to it must take it
    canvas = np.zeros((6, 12, 3), dtype=np.uint8)
    for column in range(12):
        canvas[:, column] = column * 20
    mask = np.zeros((6, 12), dtype=bool)
    mask[:, 6] = True
    fill = np.full((6, 12, 3), 255, dtype=np.uint8)
    out = composite(canvas, fill, mask, feather=50)
    # weight 1/51 toward the fill, the rest toward column 5 or 7 (100 or 140)
    assert all(100 <= value <= 145 for value in out[:, 6, 0])


def test_scale_to() -> None:
    pixels = np.zeros((100, 200, 3), dtype=np.uint8)
    assert scale_to(pixels, (50, 25)).shape == (25, 50, 3)
    assert scale_to(pixels, (400, 200)).shape == (200, 400, 3)
    assert scale_to(pixels, (200, 100)) is pixels


def _full_size_blend(
    canvas: np.ndarray, fill: np.ndarray, mask: np.ndarray, feather: int
) -> np.ndarray:
    """The seam blend written plainly over the whole image, as the band-only code must
    reproduce it: weight min(distance / (feather + 1), 1) toward the fill, the rest
    toward the nearest known pixel (OpenCV's pixel labels)."""
    holes = mask.astype(np.uint8)
    distance, labels = cv2.distanceTransformWithLabels(
        holes, cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(~mask)
    nearest = canvas[rows, cols][np.maximum(labels, 1) - 1].astype(np.float32)
    weight = np.clip(distance / (feather + 1), 0, 1)[..., None]
    blended = weight * fill.astype(np.float32) + (1 - weight) * nearest
    out = canvas.copy()
    out[mask] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)[mask]
    return out


@settings(max_examples=60, deadline=None)
@given(**composite_inputs(st.integers(1, 8)))
def test_the_band_only_blend_equals_the_full_size_formula(
    canvas: np.ndarray, fill: np.ndarray, mask: np.ndarray, feather: int
) -> None:
    if mask.all() or not mask.any():
        return  # a plain paste, covered above
    assert np.array_equal(
        composite(canvas, fill, mask, feather), _full_size_blend(canvas, fill, mask, feather)
    )
