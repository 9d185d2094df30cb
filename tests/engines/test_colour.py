"""Colour matching of a generated fill to the pixels around its hole."""

from __future__ import annotations

import numpy as np

from canvasfill.engines.colour import SHIFT_LIMIT, match_colours, ring_around


def scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    original = rng.integers(60, 190, (80, 80, 3), dtype=np.uint8)
    mask = np.zeros((80, 80), dtype=bool)
    mask[25:55, 25:55] = True
    return original, mask


def test_a_uniform_colour_drift_is_taken_out_of_the_fill() -> None:
    original, mask = scene()
    drift = np.array([20, -15, 10])
    generated = np.clip(original.astype(int) + drift, 0, 255).astype(np.uint8)
    corrected = match_colours(generated, original, mask)
    error = np.abs(corrected[mask].astype(int) - original[mask].astype(int))
    assert error.mean() < 1.0
    np.testing.assert_array_equal(corrected[~mask], generated[~mask])


def test_a_wild_ring_cannot_shift_the_fill_without_bound() -> None:
    original, mask = scene()
    generated = original.copy()
    generated[ring_around(mask)] = 0  # a model that blackened the surroundings
    corrected = match_colours(generated, original, mask)
    shift = corrected[mask].astype(float).mean() - generated[mask].astype(float).mean()
    assert 0 < shift <= SHIFT_LIMIT + 1


def test_too_small_a_ring_changes_nothing() -> None:
    original = np.full((6, 6, 3), 100, dtype=np.uint8)
    mask = np.ones((6, 6), dtype=bool)
    generated = np.full((6, 6, 3), 30, dtype=np.uint8)
    np.testing.assert_array_equal(match_colours(generated, original, mask), generated)
