"""The first guess a diffusion model starts from: nearest known colour, smoothed."""

from __future__ import annotations

import numpy as np

from canvasfill.engines.prefill import nearest_known, prefill


def test_nearest_known_replicates_the_edge_into_an_expansion_border() -> None:
    image = np.zeros((40, 60, 3), dtype=np.uint8)
    image[10:30, 10:30] = (200, 10, 10)
    image[10:30, 30:50] = (10, 10, 200)
    mask = np.ones((40, 60), dtype=bool)
    mask[10:30, 10:50] = False
    filled = nearest_known(image, mask)
    assert tuple(filled[20, 0]) == (200, 10, 10)
    assert tuple(filled[20, 59]) == (10, 10, 200)
    assert tuple(filled[0, 15]) == (200, 10, 10)
    np.testing.assert_array_equal(filled[~mask], image[~mask])


def test_prefill_smooths_only_the_hole() -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), dtype=bool)
    mask[20:44, 20:44] = True
    image[mask] = 0
    filled = prefill(image, mask, blur=3)
    np.testing.assert_array_equal(filled[~mask], image[~mask])
    inside = filled[mask].astype(float)
    assert 60 < inside.mean() < 200, "the hole takes its surroundings' colour, not black"
    assert inside.std() < image[~mask].astype(float).std(), "and is smoother than the noise"


def test_nothing_to_fill_returns_the_image() -> None:
    image = np.full((8, 8, 3), 9, dtype=np.uint8)
    np.testing.assert_array_equal(nearest_known(image, np.zeros((8, 8), dtype=bool)), image)
