"""Crop-around-the-mask and resize: the windows a fixed-size network is run on."""

from __future__ import annotations

import numpy as np
import pytest

from canvasfill.engines.base import RGB, Mask
from canvasfill.engines.windows import (
    MAX_WINDOWS,
    WindowPolicy,
    fill_window,
    plan_windows,
    run_windowed,
    scale_mask,
    working_size,
)


def holes(height: int, width: int, *boxes: tuple[int, int, int, int]) -> Mask:
    mask = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def test_a_small_hole_in_a_large_image_gets_one_full_detail_window_around_it() -> None:
    mask = holes(2000, 3000, (1500, 900, 1540, 960))
    [window] = plan_windows(mask, WindowPolicy(min_side=512, max_side=512))
    x0, y0, x1, y1 = window
    assert (x1 - x0, y1 - y0) == (512, 512), "grown to the network's size: no scaling needed"
    assert x0 <= 1500
    assert x1 >= 1540
    assert y0 <= 900
    assert y1 >= 960
    assert working_size(x1 - x0, y1 - y0, WindowPolicy(max_side=512)) == (512, 512)


def test_a_window_near_the_border_shifts_inside_the_image() -> None:
    mask = holes(1000, 1000, (0, 980, 10, 1000))
    [(x0, y0, x1, y1)] = plan_windows(mask, WindowPolicy(min_side=512, max_side=512))
    assert (x0, y1) == (0, 1000)
    assert (x1 - x0, y1 - y0) == (512, 512)


def test_far_apart_holes_get_their_own_windows_and_near_ones_are_merged() -> None:
    policy = WindowPolicy(min_side=256, max_side=512)
    far = holes(1000, 3000, (100, 100, 120, 120), (2800, 800, 2820, 820))
    assert len(plan_windows(far, policy)) == 2
    near = holes(1000, 3000, (100, 100, 120, 120), (200, 150, 220, 170))
    [window] = plan_windows(near, policy)
    assert window[0] <= 100
    assert window[2] >= 220


def test_windows_never_overlap_and_cover_every_hole() -> None:
    rng = np.random.default_rng(4)
    mask = np.zeros((900, 1400), dtype=bool)
    for _ in range(9):
        x, y = int(rng.integers(0, 1350)), int(rng.integers(0, 850))
        mask[y : y + 40, x : x + 40] = True
    windows = plan_windows(mask, WindowPolicy(min_side=300, max_side=512, square=True))
    covered = np.zeros_like(mask)
    for x0, y0, x1, y1 in windows:
        assert not covered[y0:y1, x0:x1].any(), "windows overlap"
        covered[y0:y1, x0:x1] = True
    assert not (mask & ~covered).any()


def test_very_many_holes_share_one_window() -> None:
    mask = np.zeros((600, 6000), dtype=bool)
    mask[300, :: 6000 // (MAX_WINDOWS + 4)] = True
    assert len(plan_windows(mask, WindowPolicy(min_side=64, max_side=512))) == 1


def test_an_expansion_ring_is_one_window_scaled_to_the_working_size() -> None:
    mask = np.ones((600, 900), dtype=bool)
    mask[100:500, 150:750] = False
    [window] = plan_windows(mask, WindowPolicy(min_side=512, max_side=512))
    assert window == (0, 0, 900, 600)
    assert working_size(900, 600, WindowPolicy(max_side=512, multiple=8)) == (512, 344)


def test_scaling_a_mask_never_loses_a_hole() -> None:
    mask = np.zeros((1000, 1000), dtype=bool)
    mask[500, 500] = True  # a single pixel, scaled down by 4
    assert scale_mask(mask, (250, 250)).sum() >= 1


def test_a_square_network_gets_a_padded_square_and_the_padding_is_marked_to_fill() -> None:
    seen: dict[str, object] = {}

    def infer(pixels: RGB, work_holes: Mask) -> RGB:
        seen["shape"] = pixels.shape
        seen["bottom_rows_hole"] = bool(work_holes[-20:, :].all())
        return np.full_like(pixels, 7)

    pixels = np.full((200, 300, 3), 50, dtype=np.uint8)
    window_holes = holes(200, 300, (10, 10, 30, 30))
    out = fill_window(pixels, window_holes, infer, WindowPolicy(max_side=512, square=True))
    assert seen == {"shape": (512, 512, 3), "bottom_rows_hole": True}
    assert out.shape == (200, 300, 3)


def test_run_windowed_changes_only_hole_pixels() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (700, 900, 3), dtype=np.uint8)
    mask = holes(700, 900, (50, 60, 90, 100), (800, 600, 850, 650))

    def infer(pixels: RGB, work_holes: Mask) -> RGB:
        out = pixels.copy()
        out[work_holes] = (1, 2, 3)
        return out

    filled = run_windowed(image, mask, infer, WindowPolicy(min_side=256, max_side=256))
    np.testing.assert_array_equal(filled[~mask], image[~mask])
    assert (filled[mask] == (1, 2, 3)).all()


def test_a_network_that_returns_the_wrong_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="returned"):
        fill_window(
            np.zeros((64, 64, 3), dtype=np.uint8),
            holes(64, 64, (1, 1, 5, 5)),
            lambda px, _h: px[:10],
            WindowPolicy(max_side=64),
        )
