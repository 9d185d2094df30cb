"""OpenCV's Telea and Navier-Stokes engines."""

from __future__ import annotations

import numpy as np
import pytest

from canvasfill.engines.base import FillParams, Operation
from canvasfill.engines.registry import get_engine


@pytest.mark.parametrize("name", ["telea", "ns"])
def test_fills_a_flat_region_with_its_colour(name: str) -> None:
    image = np.full((60, 80, 3), (30, 120, 200), dtype=np.uint8)
    mask = np.zeros((60, 80), dtype=bool)
    mask[20:40, 30:50] = True
    image[mask] = 0  # what was there must not matter
    fills = get_engine(name).fill(image, mask, FillParams(seed=1, n=2, operation=Operation.REMOVE))
    assert len(fills) == 2
    for fill in fills:
        assert fill.shape == image.shape
        assert fill.dtype == np.uint8
        error = np.abs(fill[mask].astype(int) - (30, 120, 200)).max()
        assert error <= 4  # fast marching rounds a little on each step


def test_gradient_is_continued_smoothly() -> None:
    ramp = np.tile(np.linspace(0, 250, 100).astype(np.uint8), (50, 1))
    image = np.repeat(ramp[:, :, None], 3, axis=2)
    mask = np.zeros((50, 100), dtype=bool)
    mask[20:30, 45:55] = True
    fill = get_engine("telea").fill(image, mask, FillParams(seed=1))[0]
    error = np.abs(fill[mask].astype(int) - image[mask].astype(int)).mean()
    assert error < 8
