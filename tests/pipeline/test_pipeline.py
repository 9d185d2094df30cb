"""The one path: spec + bytes -> validated plan -> engine -> composite -> encoded results."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from canvasfill.engines.base import Engine, FillParams, Operation, Param, rng_for
from canvasfill.engines.registry import register
from canvasfill.errors import EngineError, ErrorCode, FillCanceledError, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.pipeline.prepare import prepare
from canvasfill.pipeline.run import run, run_job
from canvasfill.pipeline.spec import (
    Box,
    BoxRemoval,
    CanvasMask,
    JobSpec,
    MaskRemoval,
    OutputOptions,
    PixelExpansion,
    RatioExpansion,
)
from tests.conftest import decode_pixels, encode


@register
class _NoiseEngine(Engine):
    """A seeded engine for tests: random pixels from ``rng_for(seed_for(i))``."""

    name = "test-noise"
    summary = "seeded noise"
    honours: ClassVar[frozenset[Param]] = frozenset({Param.SEED, Param.N})
    feather = 0

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams) -> list[np.ndarray]:
        return [
            rng_for(params.seed_for(i)).integers(0, 256, image.shape, dtype=np.uint8)
            for i in range(params.n)
        ]


@register
class _BrokenEngine(Engine):
    name = "test-broken"
    summary = "always fails"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams) -> list[np.ndarray]:
        raise RuntimeError("out of video memory")


@register
class _WrongShapeEngine(Engine):
    name = "test-wrong-shape"
    summary = "returns a cropped image"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams) -> list[np.ndarray]:
        return [image[1:]]


def _expand_spec(**changes: object) -> JobSpec:
    base: dict[str, object] = {
        "operation": Operation.EXPAND,
        "geometry": RatioExpansion(left=0.25, right=0.25),
        "seed": 11,
        "engine": "test-noise",
    }
    return JobSpec.model_validate(base | changes)


def test_original_pixels_come_back_bit_exact(photo: np.ndarray) -> None:
    result = run_job(_expand_spec(engine="telea"), encode(photo))
    image = result.images[0]
    assert (image.width, image.height) == (1152, 512)
    pixels = decode_pixels(image.data)
    assert np.array_equal(pixels[:, 192:960], photo)


def test_every_result_of_n_keeps_the_original(small_photo: np.ndarray) -> None:
    spec = _expand_spec(n=3, geometry=PixelExpansion(top=7, bottom=5))
    result = run_job(spec, encode(small_photo))
    assert len(result.images) == 3
    pixels = [decode_pixels(image.data) for image in result.images]
    for each in pixels:
        assert np.array_equal(each[7:127], small_photo)
    assert not np.array_equal(pixels[0], pixels[1])  # seeds seed, seed+1, ...


def test_same_seed_same_pixels_other_seed_other_pixels(small_photo: np.ndarray) -> None:
    data = encode(small_photo)
    first = run_job(_expand_spec(seed=5), data).images[0].data
    again = run_job(_expand_spec(seed=5), data).images[0].data
    other = run_job(_expand_spec(seed=6), data).images[0].data
    assert first == again
    assert first != other


def test_the_seed_and_engine_are_reported(small_photo: np.ndarray) -> None:
    result = run_job(_expand_spec(seed=77, prompt="sea"), encode(small_photo))
    assert result.seed == 77
    assert result.engine == "test-noise"
    assert result.ignored == {Param.PROMPT}


def test_removal_by_boxes_keeps_everything_else(small_photo: np.ndarray) -> None:
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=BoxRemoval(boxes=(Box(x=10, y=10, width=30, height=20),)),
        seed=1,
        engine="telea",
    )
    pixels = decode_pixels(run_job(spec, encode(small_photo)).images[0].data)
    outside = np.ones(small_photo.shape[:2], dtype=bool)
    outside[10:30, 10:40] = False
    assert np.array_equal(pixels[outside], small_photo[outside])
    assert not np.array_equal(pixels[10:30, 10:40], small_photo[10:30, 10:40])


def test_removal_by_mask_with_growth(small_photo: np.ndarray) -> None:
    mask = np.zeros(small_photo.shape[:2], dtype=np.uint8)
    mask[50:60, 50:60] = 255
    spec = JobSpec(
        operation=Operation.REMOVE, geometry=MaskRemoval(grow=4), seed=1, engine="test-noise"
    )
    prepared = prepare(spec, encode(small_photo), encode(mask))
    assert int(prepared.plan.fill_mask.sum()) > 100
    assert prepared.plan.fill_mask[47, 55]
    assert not prepared.plan.fill_mask[40, 55]
    pixels = decode_pixels(run(spec, prepared).images[0].data)
    keep = ~prepared.plan.fill_mask
    assert np.array_equal(pixels[keep], small_photo[keep])


def test_canvas_mode_fills_only_the_mask(small_photo: np.ndarray) -> None:
    mask = np.zeros(small_photo.shape[:2], dtype=np.uint8)
    mask[:, :20] = 255
    spec = JobSpec(operation=Operation.EXPAND, geometry=CanvasMask(), seed=1, engine="test-noise")
    pixels = decode_pixels(run_job(spec, encode(small_photo), encode(mask)).images[0].data)
    assert np.array_equal(pixels[:, 20:], small_photo[:, 20:])


def test_a_mask_is_required_for_mask_shapes(small_photo: np.ndarray) -> None:
    spec = JobSpec(operation=Operation.REMOVE, geometry=MaskRemoval(), seed=1)
    with pytest.raises(InputError) as caught:
        prepare(spec, encode(small_photo))
    assert caught.value.field == "mask"


def test_an_all_black_mask_is_refused(small_photo: np.ndarray) -> None:
    spec = JobSpec(operation=Operation.REMOVE, geometry=MaskRemoval(), seed=1)
    black = np.zeros(small_photo.shape[:2], dtype=np.uint8)
    with pytest.raises(InputError) as caught:
        prepare(spec, encode(small_photo), encode(black))
    assert caught.value.code is ErrorCode.EMPTY_MASK


def test_strict_mask_rules_follow_the_spec(small_photo: np.ndarray) -> None:
    coloured = np.zeros((*small_photo.shape[:2], 3), dtype=np.uint8)
    coloured[10:20, 10:20] = (255, 240, 200)  # bright enough to fill, not grey
    lenient = JobSpec(operation=Operation.REMOVE, geometry=MaskRemoval(), seed=1)
    strict = lenient.model_copy(update={"strict_mask": True})
    prepare(lenient, encode(small_photo), encode(coloured))
    with pytest.raises(InputError) as caught:
        prepare(strict, encode(small_photo), encode(coloured))
    assert caught.value.code is ErrorCode.INVALID_MASK


def test_max_size_fallback_scales_the_result(photo: np.ndarray) -> None:
    spec = _expand_spec(output=OutputOptions(max_width=576, max_height=0))
    image = run_job(spec, encode(photo)).images[0]
    assert (image.width, image.height) == (576, 256)
    assert decode_pixels(image.data).shape == (256, 576, 3)


def test_alpha_survives_expansion(small_photo: np.ndarray) -> None:
    alpha = np.full(small_photo.shape[:2], 90, dtype=np.uint8)
    rgba = np.dstack([small_photo, alpha])
    spec = _expand_spec(geometry=PixelExpansion(left=10))
    pixels = decode_pixels(run_job(spec, encode(rgba)).images[0].data)
    assert pixels.shape == (120, 170, 4)
    assert (pixels[:, 10:, 3] == 90).all()
    assert (pixels[:, :10, 3] == 255).all()
    assert np.array_equal(pixels[:, 10:, :3], small_photo)


def test_jpeg_output(small_photo: np.ndarray) -> None:
    spec = _expand_spec(output=OutputOptions(format=OutputFormat.JPEG, quality=80))
    image = run_job(spec, encode(small_photo)).images[0]
    assert image.data[:3] == b"\xff\xd8\xff"
    assert image.format is OutputFormat.JPEG


def test_kling_limits_refuse_a_canvas_over_three_times(small_photo: np.ndarray) -> None:
    big = np.zeros((300, 400, 3), dtype=np.uint8)
    spec = _expand_spec(limits="kling", geometry=RatioExpansion(left=1.0, right=1.0, top=0.01))
    with pytest.raises(InputError) as caught:
        prepare(spec, encode(big))
    assert caught.value.code is ErrorCode.CANVAS_TOO_LARGE


def test_engine_failure_becomes_an_engine_error(small_photo: np.ndarray) -> None:
    with pytest.raises(EngineError) as caught:
        run_job(_expand_spec(engine="test-broken"), encode(small_photo))
    assert caught.value.code is ErrorCode.ENGINE_FAILED
    assert "out of video memory" in caught.value.message


def test_engine_returning_the_wrong_shape_is_caught(small_photo: np.ndarray) -> None:
    with pytest.raises(EngineError):
        run_job(_expand_spec(engine="test-wrong-shape"), encode(small_photo))


def test_progress_is_reported(small_photo: np.ndarray) -> None:
    seen: list[int] = []
    run_job(_expand_spec(), encode(small_photo), progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 100


def test_spec_round_trips_through_json() -> None:
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=BoxRemoval(boxes=(Box(x=1, y=2, width=3, height=4),), grow=2),
        seed=9,
        n=2,
        prompt="grass",
    )
    assert JobSpec.model_validate_json(spec.model_dump_json()) == spec


def test_watermarked_copies_when_asked(small_photo: np.ndarray) -> None:
    plain = run_job(_expand_spec(), encode(small_photo)).images[0]
    assert plain.watermarked is None
    spec = _expand_spec(output=OutputOptions(watermark=True))
    image = run_job(spec, encode(small_photo)).images[0]
    assert image.data == plain.data  # the clean result is untouched
    assert image.watermarked is not None
    clean, marked = decode_pixels(image.data), decode_pixels(image.watermarked)
    assert marked.shape == clean.shape
    changed = np.abs(marked.astype(int) - clean.astype(int)).max(axis=2) > 20
    assert 0.02 < changed.mean() < 0.6  # visible, but the picture still shows through


def test_progress_rises_through_the_fill_span_in_whole_percents(small_photo: np.ndarray) -> None:
    seen: list[int] = []
    spec = _expand_spec(engine="patch", geometry=RatioExpansion(left=0.5, right=0.5))
    run(spec, prepare(spec, encode(small_photo)), seen.append)
    assert seen[0] == 10
    assert seen[-2:] == [90, 100]
    inside = [percent for percent in seen if 10 < percent < 90]
    assert len(inside) >= 3, f"the engine's own steps show between 10 and 90: {seen}"
    assert seen == sorted(set(seen)), "rising, each percent once"


def test_should_stop_ends_the_run_between_the_engine_steps(small_photo: np.ndarray) -> None:
    asked: list[int] = []
    spec = _expand_spec(engine="patch", geometry=RatioExpansion(left=0.5, right=0.5))

    def stop_on_third() -> bool:
        asked.append(1)
        return len(asked) >= 3

    seen: list[int] = []
    with pytest.raises(FillCanceledError) as caught:
        run(spec, prepare(spec, encode(small_photo)), seen.append, should_stop=stop_on_third)
    assert caught.value.code is ErrorCode.CANCELED
    assert len(asked) == 3
    assert 100 not in seen


def test_should_stop_is_asked_before_an_engine_without_progress_starts(
    small_photo: np.ndarray,
) -> None:
    spec = _expand_spec()  # test-noise: a fill(image, mask, params) written before progress
    assert run_job(spec, encode(small_photo), should_stop=lambda: False).images
    with pytest.raises(FillCanceledError):
        run_job(spec, encode(small_photo), should_stop=lambda: True)
