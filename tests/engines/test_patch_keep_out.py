"""Kept-out sources (issue 25 item 4): an expansion's subject is not copied into the border.

The photo is green-grey noise with a red pole from its top edge to its bottom, and the
canvas grows above and below: the natural continuation is the pole itself, so without
the exclusion the solver copies it into both borders, and with it no border pixel is red.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from canvasfill.engines.base import FillParams, Operation, Param
from canvasfill.engines.patch import PatchEngine
from canvasfill.engines.patchmatch.solver import SolverSettings, complete
from canvasfill.imaging import masks

HEIGHT, WIDTH, ADD = 80, 128, 40
POLE = slice(56, 72)
RED = (230, 20, 20)


def _canvas() -> tuple[NDArray[np.uint8], masks.Mask, masks.Mask]:
    """(canvas, hole, the subject dilated as the detector dilates it)."""
    rng = np.random.default_rng(0)
    canvas = np.zeros((HEIGHT + 2 * ADD, WIDTH, 3), dtype=np.uint8)
    photo = rng.integers(60, 120, size=(HEIGHT, WIDTH, 3))
    photo[..., 1] += 40
    canvas[ADD : ADD + HEIGHT] = photo.astype(np.uint8)
    subject = np.zeros(canvas.shape[:2], dtype=bool)
    subject[ADD : ADD + HEIGHT, POLE] = True
    canvas[subject] = RED
    hole = np.ones(canvas.shape[:2], dtype=bool)
    hole[ADD : ADD + HEIGHT] = False
    return canvas, hole, masks.grow(subject, 4)


def _red(pixels: NDArray[np.uint8]) -> int:
    """Pixels of the subject's colour (far from the photo's greens and greys)."""
    values = pixels.astype(np.int32)
    return int(((values[..., 0] > 150) & (values[..., 1] < 90) & (values[..., 2] < 90)).sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_the_border_takes_no_pixel_of_a_kept_out_subject(seed: int) -> None:
    canvas, hole, subject = _canvas()
    copied = complete(canvas, hole, SolverSettings(), seed)
    kept_out = complete(canvas, hole, SolverSettings(), seed, keep_out=subject)
    assert _red(copied[hole]) > 0  # the pole goes on into the border without it
    assert _red(kept_out[hole]) == 0
    assert np.array_equal(kept_out[~hole], canvas[~hole])


def test_the_patch_engine_passes_keep_out_and_reports_detect_for_expansions_only() -> None:
    canvas, hole, subject = _canvas()
    engine = PatchEngine()
    params = FillParams(seed=3, operation=Operation.EXPAND, steps=2, keep_out=subject)
    [filled] = engine.fill(canvas, hole, params)
    assert _red(filled[hole]) == 0
    assert Param.DETECT in params.given()
    assert Param.DETECT not in FillParams(seed=3).given()
    assert Param.DETECT in engine.honoured(Operation.EXPAND)
    assert Param.DETECT not in engine.honoured(Operation.REMOVE)


def test_a_keep_out_that_leaves_too_few_sources_is_dropped() -> None:
    canvas, hole, _subject = _canvas()
    everything = ~hole
    plain = complete(canvas, hole, SolverSettings(), 5)
    assert np.array_equal(complete(canvas, hole, SolverSettings(), 5, keep_out=everything), plain)
    nothing = np.zeros_like(hole)
    assert np.array_equal(complete(canvas, hole, SolverSettings(), 5, keep_out=nothing), plain)
