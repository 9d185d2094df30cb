"""The ``patch`` engine: deterministic, leaves known pixels alone, continues what it sees.

Images are generated here and kept small (at most 96 px), so the whole file runs in
seconds once numba has compiled the kernels (the first run compiles and caches them).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from canvasfill.engines.base import FillParams, Operation, Param
from canvasfill.engines.patch import DEFAULT_STEPS, MAX_STEPS, PatchEngine, settings_for, warm_up
from canvasfill.engines.registry import choose_engine
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import JobSpec, MaskRemoval, PixelExpansion

RGB = NDArray[np.uint8]


def textured(side: int = 80, seed: int = 5) -> RGB:
    """Smooth colour fields plus noise: no two patches alike, so seeds matter."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side].astype(np.float32)
    base = np.stack([120 + 60 * np.sin(xx / 7), 120 + 60 * np.cos(yy / 5), 90 + xx], axis=-1)
    noisy = base + rng.normal(0, 25, size=base.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def stripes(height: int, width: int, period: int = 8) -> RGB:
    """Diagonal stripes that repeat exactly every ``period`` pixels across and down."""
    yy, xx = np.mgrid[:height, :width]
    phase = 2 * np.pi * ((xx + yy) % period) / period
    wave = 127.5 + 100 * np.sin(phase)
    return np.stack([wave, 255 - wave, np.full_like(wave, 60)], axis=-1).astype(np.uint8)


def centre_hole(height: int, width: int, margin: int) -> NDArray[np.bool_]:
    hole = np.zeros((height, width), dtype=bool)
    hole[margin : height - margin, margin : width - margin] = True
    return hole


def fill(
    image: RGB, hole: NDArray[np.bool_], seed: int = 1, operation: Operation = Operation.REMOVE
) -> RGB:
    (result,) = PatchEngine().fill(image, hole, FillParams(seed=seed, operation=operation))
    return result


def png(pixels: RGB) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_same_seed_same_pixels_other_seed_other_pixels() -> None:
    image = textured()
    hole = centre_hole(80, 80, 25)
    first = fill(image, hole, seed=11)
    assert np.array_equal(first, fill(image, hole, seed=11))
    assert not np.array_equal(first, fill(image, hole, seed=12))


def test_n_images_follow_consecutive_seeds() -> None:
    image = textured()
    hole = centre_hole(80, 80, 25)
    params = FillParams(seed=40, n=2, operation=Operation.REMOVE)
    images = PatchEngine().fill(image, hole, params)
    assert len(images) == 2
    assert np.array_equal(images[1], fill(image, hole, seed=41))


def test_known_region_untouched_through_the_pipeline() -> None:
    image = textured(64)
    hole = np.zeros((64, 64), dtype=bool)
    hole[20:44, 10:30] = True
    hole[5:12, 40:60] = True
    spec = JobSpec(operation=Operation.REMOVE, geometry=MaskRemoval(), seed=3, engine="patch")
    output = run_job(spec, png(image), png((hole * 255).astype(np.uint8)))
    assert output.engine == "patch"
    with Image.open(io.BytesIO(output.images[0].data)) as decoded:
        result = np.asarray(decoded.convert("RGB"))
    assert np.array_equal(result[~hole], image[~hole])
    assert not np.array_equal(result[hole], image[hole] * 0)


def test_flat_colour_is_continued_exactly() -> None:
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[:] = (37, 140, 201)
    hole = centre_hole(64, 64, 16)
    given = image.copy()
    given[hole] = 0  # the hole's old content must not matter
    result = fill(given, hole)
    error = np.abs(result.astype(int) - image.astype(int))
    assert int(error.max()) <= 1


def test_periodic_texture_is_continued_into_a_hole() -> None:
    image = stripes(96, 96)
    hole = centre_hole(96, 96, 28)
    given = image.copy()
    given[hole] = 0
    result = fill(given, hole)
    error = np.abs(result[hole].astype(float) - image[hole].astype(float))
    assert error.mean() < 4.0, f"mean error {error.mean():.2f} grey levels"


def test_periodic_texture_is_continued_outward_when_expanding() -> None:
    image = stripes(72, 96)
    hole = np.ones((72, 96), dtype=bool)
    hole[12:60, 16:80] = False  # the original sits in the middle; the border is new
    given = image.copy()
    given[hole] = 0
    result = fill(given, hole, operation=Operation.EXPAND)
    error = np.abs(result[hole].astype(float) - image[hole].astype(float))
    assert error.mean() < 6.0, f"mean error {error.mean():.2f} grey levels"


@pytest.mark.parametrize("known", [0, 1, 9])
def test_a_hole_over_almost_everything_still_gives_an_image(known: int) -> None:
    image = textured(48)
    hole = np.ones((48, 48), dtype=bool)
    hole[:known, :known] = False
    result = fill(image, hole)
    assert result.shape == image.shape
    assert result.dtype == np.uint8
    assert np.array_equal(result[~hole], image[~hole])


def test_it_is_the_default_and_reports_prompts_as_ignored() -> None:
    params = FillParams(seed=1, prompt="a red barn")
    for operation in Operation:
        assert choose_engine("auto", operation, params).name == "patch"
    image = textured(48)
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(right=12),
        seed=2,
        prompt="a red barn",
        steps=2,
    )
    output = run_job(spec, png(image))
    assert output.engine == "patch"
    assert output.ignored == frozenset({Param.PROMPT})
    assert (output.images[0].width, output.images[0].height) == (60, 48)


def test_strength_is_honoured_by_a_removal_and_reported_ignored_by_an_expansion() -> None:
    image = textured(48)
    hole = np.zeros((48, 48), dtype=bool)
    hole[16:32, 16:32] = True
    removal = JobSpec(
        operation=Operation.REMOVE, geometry=MaskRemoval(), seed=2, strength=0.5, engine="patch"
    )
    removed = run_job(removal, png(image), png((hole * 255).astype(np.uint8)))
    assert removed.ignored == frozenset()
    expansion = JobSpec(
        operation=Operation.EXPAND, geometry=PixelExpansion(left=8), seed=2, strength=0.5
    )
    assert run_job(expansion, png(image)).ignored == frozenset({Param.STRENGTH})


def test_steps_set_the_em_work() -> None:
    assert settings_for(None) == settings_for(DEFAULT_STEPS)
    assert settings_for(1).em_iterations < settings_for(8).em_iterations
    assert settings_for(10_000) == settings_for(MAX_STEPS)


def test_warm_up_compiles_without_error() -> None:
    warm_up()
