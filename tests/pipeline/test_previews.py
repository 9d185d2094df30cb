"""Previews of a running fill: offered by the engine, composited and encoded small by the
pipeline, only when the spec asks for them, never changing the result."""

from __future__ import annotations

import numpy as np

from canvasfill.engines.base import (
    RGB,
    Engine,
    FillParams,
    FillPreview,
    Mask,
    fill_with_progress,
    offers_previews,
)
from canvasfill.engines.patch import PatchEngine, settings_for
from canvasfill.engines.patchmatch.solver import complete
from canvasfill.imaging.encode import OutputFormat
from canvasfill.pipeline.previews import PREVIEW_SIDE, PreviewImage, Previews
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import JobSpec, PixelExpansion
from canvasfill.sample import sample_photo
from tests.conftest import decode_pixels, encode

PHOTO = sample_photo(320, 240, seed=3)


def _expansion(previews: int, **output: object) -> JobSpec:
    return JobSpec.model_validate(
        {
            "operation": "expand",
            "geometry": PixelExpansion(left=40, right=40, top=40, bottom=40).model_dump(),
            "seed": 5,
            "engine": "patch",
            "previews": previews,
            "output": output,
        }
    )


def test_the_patch_engine_shows_its_coarse_levels_and_the_result_is_unchanged() -> None:
    kept: list[PreviewImage] = []
    shown = run_job(_expansion(3), encode(PHOTO), on_preview=kept.append)
    plain = run_job(_expansion(0), encode(PHOTO))
    assert shown.images[0].data == plain.images[0].data  # previews change no pixel
    # 400x320: three pyramid levels, the two coarse ones shown, in order
    assert [preview.index for preview in kept] == [0, 1]
    for preview in kept:
        assert (preview.width, preview.height, preview.format) == (400, 320, OutputFormat.PNG)
        pixels = decode_pixels(preview.data)
        assert pixels.shape == (320, 400, 3)
        assert np.array_equal(pixels[40:280, 40:360], PHOTO)  # the photo, exact
    first, second = (decode_pixels(preview.data).astype(float) for preview in kept)
    final = decode_pixels(plain.images[0].data).astype(float)
    # each level is a closer sketch of the result than the one before
    assert np.abs(second - final).mean() < np.abs(first - final).mean()


def test_a_spec_without_previews_never_hands_the_engine_a_callback() -> None:
    seen: list[FillPreview | None] = []

    class Spy(PatchEngine):
        def fill(  # type: ignore[override]
            self, image: RGB, mask: Mask, params: FillParams, *, preview: FillPreview | None = None
        ) -> list[RGB]:
            seen.append(preview)
            return [image.copy()]

    spy = Spy()
    image, mask = PHOTO.copy(), np.zeros(PHOTO.shape[:2], dtype=bool)
    fill_with_progress(spy, image, mask, FillParams(seed=1), None, None)
    fill_with_progress(spy, image, mask, FillParams(seed=1), None, lambda _i, _e: None)
    assert seen[0] is None
    assert seen[1] is not None
    assert offers_previews(spy)


def test_engines_that_show_no_work_are_never_asked() -> None:
    class Old(Engine):
        name = "old"
        summary = "three-parameter fill"

        def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
            return [image]

    assert not offers_previews(Old())
    image = PHOTO.copy()
    result = fill_with_progress(
        Old(), image, np.zeros((240, 320), bool), FillParams(seed=1), None, lambda _i, _e: None
    )
    assert result[0] is image


def test_previews_are_bounded_and_keep_the_first_ones_asked() -> None:
    canvas = np.zeros((1000, 2000, 3), dtype=np.uint8)
    canvas[:, :1000] = 200
    hole = np.zeros((1000, 2000), dtype=bool)
    hole[:, 1000:] = True
    alpha = np.full((1000, 2000), 255, dtype=np.uint8)
    kept: list[PreviewImage] = []
    previews = Previews(canvas, hole, alpha, (2000, 1000), OutputFormat.JPEG, 95, 2, kept.append)
    for grey in (50, 100, 150):
        previews(0, np.full((250, 500, 3), grey, dtype=np.uint8))  # a coarse level's size
    assert [(p.index, p.width, p.height) for p in kept] == [(0, 512, 256), (1, 512, 256)]
    assert PREVIEW_SIDE == 512
    assert all(p.data[:3] == b"\xff\xd8\xff" for p in kept)
    assert all(len(p.data) < 64_000 for p in kept)  # small: bounded size and quality
    pixels = decode_pixels(kept[1].data).astype(int)
    assert abs(pixels[:, :200].mean() - 200) < 3  # the known half
    assert abs(pixels[:, 312:].mean() - 100) < 3  # the second sketch in the hole


def test_the_solver_sketches_each_searched_level_but_the_last() -> None:
    image = PHOTO.copy()
    hole = np.zeros((240, 320), dtype=bool)
    hole[80:160, 100:220] = True
    settings = settings_for(2)
    sketches: list[RGB] = []
    sketched = complete(image, hole, settings, seed=3, sketch=sketches.append)
    plain = complete(image, hole, settings, seed=3)
    assert np.array_equal(sketched, plain)
    # 240 px: three levels (the coarsest a quarter of the side), the finest not sketched
    assert [sketch.shape for sketch in sketches] == [(60, 80, 3), (120, 160, 3)]
    assert sketches[0].dtype == np.uint8
