"""The solver's parts a whole-image test would not pin down on its own: the texture
channels, the locality prior, the carried levels of a large canvas and their polish,
deep holes, and pixels that do not depend on the number of threads.

Images are generated here and kept small.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from canvasfill.engines.patchmatch import kernels
from canvasfill.engines.patchmatch.solver import (
    SolverSettings,
    _bands,
    _beside,
    _confidence,
    _Field,
    _remoteness,
    _sources,
    _target_list,
    _upsample,
    complete,
)
from tests.engines.test_patch import centre_hole, stripes

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]


def grain(image: RGB, hole: Mask) -> float:
    """Mean step between horizontal neighbours inside the hole: the texture's strength."""
    steps = np.abs(np.diff(image.astype(np.float32), axis=1)).mean(axis=2)
    return float(steps[hole[:, 1:] & hole[:, :-1]].mean())


def grainy_right_half(seed: int = 4) -> RGB:
    """Flat grey on the left third, noise of the same mean grey on the rest."""
    rng = np.random.default_rng(seed)
    image = np.full((64, 96, 3), 128, dtype=np.uint8)
    noise = 128 + rng.normal(0, 30, size=(64, 64, 1))
    image[:, 32:] = np.clip(noise, 0, 255).astype(np.uint8)
    return image


def test_texture_channels_keep_a_grainy_continuation_grainy() -> None:
    # the noise's own mean is the flat grey: by colour alone a blurred estimate of the
    # extension matches the flat region best, and the fill goes flat. The locality
    # prior is off: here the near sources are the grainy ones, and the prior (with a
    # search that starts beside the hole) would keep some grain by itself on some seeds
    image = grainy_right_half()
    hole = np.zeros((64, 96), dtype=bool)
    hole[:, 72:] = True
    given = image.copy()
    given[hole] = 0
    truth = grain(image, hole)
    plain = SolverSettings(texture_weight=0.0, min_side=16, locality=0.0)
    flat = complete(given, hole, plain, seed=0)
    grainy = complete(given, hole, replace(plain, texture_weight=4.0), seed=0)
    assert grain(flat, hole) < 0.2 * truth
    assert grain(grainy, hole) > 0.7 * truth


def test_the_locality_prior_moves_the_search_to_sources_near_the_hole() -> None:
    # a flat image: every source matches every target exactly, so only the prior decides
    r = 3
    image = np.full((60, 90, 3), 90, dtype=np.float32)
    hole = np.zeros((60, 90), dtype=bool)
    hole[:, 70:] = True
    valid = _sources(hole, r)
    ty, tx, tidx = _target_list(hole, r)
    src_y, src_x = (a.astype(np.int32) for a in np.nonzero(valid))
    remoteness = _remoteness(hole)

    def searched(prior: NDArray[np.float32]) -> float:
        """Mean remoteness of the sources chosen from a fixed random start."""
        pick = np.random.default_rng(0).integers(0, src_y.size, size=ty.size)
        nnf_y, nnf_x = src_y[pick].copy(), src_x[pick].copy()
        nnf_d = np.zeros(ty.size, dtype=np.float32)
        usage = np.zeros(hole.shape, dtype=np.int32)
        kernels.patchmatch(
            image, valid, tidx, ty, tx, _bands(ty), src_y, src_x, nnf_y, nnf_x, nnf_d,
            usage, 0.0, prior, r, 90, 2, 90, 1,
        )  # fmt: skip
        return float(remoteness[nnf_y, nnf_x].mean())

    without = searched(np.zeros(hole.shape, dtype=np.float32))
    with_prior = searched(remoteness * 100.0)
    assert with_prior < 0.3 * without


def test_a_canvas_above_the_working_size_is_carried_up_and_stays_sharp() -> None:
    # levels wider than work_side are not searched: the NNF is carried up and voted once
    image = stripes(192, 192)
    hole = centre_hole(192, 192, 60)
    given = image.copy()
    given[hole] = 0
    result = complete(given, hole, SolverSettings(work_side=64, min_side=16), seed=3)
    assert np.array_equal(result[~hole], image[~hole])
    error = np.abs(result[hole].astype(np.float32) - image[hole].astype(np.float32))
    assert float(error.mean()) < 4.0
    assert grain(result, hole) > 0.9 * grain(image, hole)


def test_every_pixel_of_a_deep_hole_gets_a_vote() -> None:
    # 2 ** -distance is 0 in float32 past about 150 px; the weights must stay above 0
    hole = np.ones((420, 420), dtype=bool)
    hole[200:220, 200:220] = False
    assert float(_confidence(hole, 2.0)[hole].min()) > 0.0


_CHILD = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {root!r})
from canvasfill.engines.patchmatch.solver import SolverSettings, complete
from tests.engines.test_patch import textured
image = textured(96)
hole = np.zeros((96, 96), dtype=bool)
hole[20:70, 30:80] = True
out = complete(image, hole, SolverSettings(min_side=24, work_side=64), seed=9)
print(hashlib.sha256(out.tobytes()).hexdigest())
"""


@pytest.mark.slow  # the solver run once per thread count
def test_the_pixels_do_not_depend_on_the_number_of_threads() -> None:
    root = str(Path(__file__).resolve().parents[2])

    def digest(threads: int) -> str:
        environment = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        done = subprocess.run(
            [sys.executable, "-c", _CHILD.format(root=root)],
            env=environment, capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    one = digest(1)
    assert len(one) == len(hashlib.sha256().hexdigest())
    assert digest(3) == one


def test_the_best_vote_copies_one_source_where_the_mean_vote_blends() -> None:
    """Two patches overlap a hole pixel and copy different values: the mean vote
    blends them, the best vote keeps the better-weighted one exactly."""
    feat = np.zeros((9, 9, 1), dtype=np.float32)
    feat[1:4, 1:4] = 10.0  # source A around (2, 2)
    feat[5:8, 5:8] = 30.0  # source B around (6, 6)
    hole = np.zeros((9, 9), dtype=bool)
    hole[4, 4] = True
    tidx = np.full((9, 9), -1, dtype=np.int32)
    tidx[4, 3], tidx[4, 5] = 0, 1  # two targets whose 3x3 patches cover (4, 4)
    nnf_y = np.array([2, 6], dtype=np.int32)
    nnf_x = np.array([2, 6], dtype=np.int32)
    weight = np.array([1.0, 3.0], dtype=np.float32)
    mean = np.zeros((9, 9, 1), dtype=np.float32)
    best = np.zeros((9, 9, 1), dtype=np.float32)
    kernels.vote(feat, hole, tidx, nnf_y, nnf_x, weight, 1, 0, 0, mean)
    kernels.vote_mode(feat, hole, tidx, nnf_y, nnf_x, weight, 1, 0, 0, best, 1.0, 0)
    assert mean[4, 4, 0] == 25.0  # (1 * 10 + 3 * 30) / 4
    assert best[4, 4, 0] == 30.0


def test_the_mode_vote_keeps_the_main_group_and_averages_where_copies_agree() -> None:
    """Five patches overlap a hole pixel: the mean vote blends a stray copy in, the
    mode vote keeps the best copy's group and averages within it."""
    feat = np.zeros((11, 11, 3), dtype=np.float32)
    hole = np.zeros((11, 11), dtype=bool)
    hole[5, 5] = True
    tidx = np.full((11, 11), -1, dtype=np.int32)
    targets = [(5, 4), (5, 6), (4, 5), (6, 5), (5, 5)]  # 3x3 patches covering (5, 5)
    copies = [100.0, 104.0, 96.0, 100.0, 220.0]  # four agree, one stray
    nnf_y = np.zeros(5, dtype=np.int32)
    nnf_x = np.zeros(5, dtype=np.int32)
    for k, ((y, x), value) in enumerate(zip(targets, copies, strict=True)):
        tidx[y, x] = k
        sy, sx = 1 + 2 * (k // 3) * 2, 1 + 2 * (k % 3) * 2  # a source patch per copy
        feat[sy - 1 : sy + 2, sx - 1 : sx + 2] = value
        nnf_y[k], nnf_x[k] = sy - (5 - y), sx - (5 - x)  # the copy lands on (5, 5)
    weight = np.array([2.0, 1.0, 1.0, 1.0, 1.5], dtype=np.float32)
    mean = np.zeros((11, 11, 3), dtype=np.float32)
    mode = np.zeros((11, 11, 3), dtype=np.float32)
    kernels.vote(feat, hole, tidx, nnf_y, nnf_x, weight, 1, 0, 0, mean)
    kernels.vote_mode(feat, hole, tidx, nnf_y, nnf_x, weight, 1, 0, 0, mode, 16.0)
    assert mean[5, 5, 0] > 120.0  # the stray copy pulls the blend up
    agreeing = (2 * 100 + 104 + 96 + 100) / 5.0
    assert abs(mode[5, 5, 0] - agreeing) < 1.0


def test_the_mode_vote_sharpens_the_fill() -> None:
    rng = np.random.default_rng(1)
    image = np.clip(rng.normal(128, 40, (96, 96, 3)), 0, 255).astype(np.uint8)
    hole = centre_hole(96, 96, 30)
    mean = complete(image, hole, SolverSettings(mode_bandwidth=0.0), seed=2)
    mode = complete(image, hole, SolverSettings(), seed=2)  # the default: the mode vote
    assert grain(mode, hole) > 1.1 * grain(mean, hole)


def test_a_target_left_unplaced_starts_at_the_nearest_source_centre() -> None:
    valid = np.zeros((40, 60), dtype=bool)
    valid[5, 5] = valid[30, 50] = valid[20, 20] = True
    ty = np.array([6, 29, 18, 0], dtype=np.int32)
    tx = np.array([8, 47, 24, 59], dtype=np.int32)
    nnf_y = np.array([-1, -1, 3, -1], dtype=np.int32)
    nnf_x = np.array([-1, -1, 4, -1], dtype=np.int32)
    _beside(valid, ty, tx, nnf_y, nnf_x)
    assert list(zip(nnf_y.tolist(), nnf_x.tolist(), strict=True)) == [
        (5, 5),  # nearest to (6, 8)
        (30, 50),  # nearest to (29, 47)
        (3, 4),  # placed already: kept
        (30, 50),  # (0, 59): 31.3 px from (30, 50), 43.8 from (20, 20)
    ]


def test_a_far_source_is_found_beyond_the_first_box() -> None:
    valid = np.zeros((300, 300), dtype=bool)
    valid[290, 290] = True  # far outside the first box around the target
    ty, tx = np.array([3], dtype=np.int32), np.array([3], dtype=np.int32)
    nnf_y, nnf_x = np.full(1, -1, dtype=np.int32), np.full(1, -1, dtype=np.int32)
    _beside(valid, ty, tx, nnf_y, nnf_x)
    assert (int(nnf_y[0]), int(nnf_x[0])) == (290, 290)


def test_where_the_hole_was_not_one_level_down_a_target_starts_beside_itself() -> None:
    # the coarse level holds no target at all (the stroke had vanished there): the fine
    # level's targets start at the source nearest to each, not at random
    coarse_tidx = np.full((20, 30), -1, dtype=np.int32)
    coarse = _Field(tidx=coarse_tidx, nnf_y=np.zeros(0, np.int32), nnf_x=np.zeros(0, np.int32))
    hole = np.zeros((40, 60), dtype=bool)
    hole[18:22, 5:55] = True  # a thin stroke
    valid = _sources(hole, 2)
    ty, tx, _tidx = _target_list(hole, 2)
    nnf_y, nnf_x = _upsample(ty, tx, coarse, valid)
    assert valid[nnf_y, nnf_x].all()
    distance = np.hypot(nnf_y - ty, nnf_x - tx)
    assert distance.max() <= 5  # the stroke is 4 px wide, a patch reaches 2 px


def copied_block(seed: int) -> tuple[RGB, Mask]:
    """Smooth noise in which columns 42..76 repeat columns 5..39, and a hole inside the
    repeat: the one exact source lies 37 px to the left, an odd offset that a field
    carried up from half size (offsets in steps of two) cannot hold."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, size=(80, 160, 3)).astype(np.float32), (0, 0), 3)
    image = np.clip(128 + noise * 60 / noise.std(), 0, 255).astype(np.uint8)
    image[:, 42:77] = image[:, 5:40]
    hole = np.zeros((80, 160), dtype=bool)
    hole[30:50, 50:70] = True
    return image, hole


@pytest.mark.parametrize("seed", [0, 3])
def test_the_polish_moves_a_carried_copy_onto_an_odd_offset(seed: int) -> None:
    image, hole = copied_block(seed)
    given = image.copy()
    given[hole] = 0
    polished = SolverSettings(work_side=100, min_side=16)  # full size is carried, and polished
    errors = []
    for settings in (replace(polished, polish_rounds=0), polished):
        result = complete(given, hole, settings, seed=3)
        assert np.array_equal(result[~hole], image[~hole])
        errors.append(float(np.abs(result[hole].astype(np.float32) - image[hole]).mean()))
    carried_only, with_polish = errors
    assert with_polish < 0.6 * carried_only
