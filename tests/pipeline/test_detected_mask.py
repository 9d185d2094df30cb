"""``DetectedMask``: removal of what detection finds, planned on the worker (issue 25).

The detectors are the tiny graphs of :mod:`tests.engines.onnx_graphs`: bright pixels
are text (and subject), so what is found is known exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from canvasfill.engines import detect
from canvasfill.engines.base import Operation
from canvasfill.errors import EngineError, ErrorCode, InputError
from canvasfill.imaging.budget import MemoryBudget
from canvasfill.pipeline.prepare import check, prepare
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import Box, DetectedMask, JobSpec, parse_detect
from tests.conftest import decode_pixels, encode
from tests.engines.onnx_graphs import install, isolate_models, ppocr_det_like, u2netp_like

WIDTH, HEIGHT = 320, 200
CAPTION = (slice(150, 170), slice(40, 280))


def _photo() -> np.ndarray:
    """A dark gradient (nothing bright: no text, no subject) with a bright caption."""
    ramp = np.linspace(10, 60, WIDTH, dtype=np.float32)
    image = np.repeat(np.repeat(ramp[None, :, None], HEIGHT, axis=0), 3, axis=2)
    image = image.astype(np.uint8)
    image[CAPTION] = 250
    return image


def _plain() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 20, dtype=np.uint8)


def _spec(geometry: DetectedMask, **changes: object) -> JobSpec:
    base: dict[str, object] = {
        "operation": Operation.REMOVE,
        "geometry": geometry,
        "seed": 3,
        "engine": "telea",
    }
    return JobSpec.model_validate(base | changes)


@pytest.fixture
def detectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = isolate_models(tmp_path, monkeypatch)
    install("u2netp", u2netp_like(tmp_path / "u2netp_like.onnx"), monkeypatch)
    install("ppocr-det", ppocr_det_like(tmp_path / "ppocr_like.onnx"), monkeypatch)
    return folder


def test_the_caption_is_found_and_only_it_is_filled(detectors: Path) -> None:
    spec = _spec(DetectedMask(detect=("text",)))
    fill = prepare(spec, encode(_photo())).plan.fill_mask
    assert fill[CAPTION].all()
    assert not fill[:100].any()
    result = run_job(spec, encode(_photo()))
    pixels = decode_pixels(result.images[0].data)
    assert pixels[CAPTION].mean() < 200, "the caption is gone"
    assert np.array_equal(pixels[~fill], _photo()[~fill]), "everything else kept exactly"


def test_text_and_subject_add_up(detectors: Path) -> None:
    both = prepare(_spec(DetectedMask(detect=("subject", "text"))), encode(_photo()))
    text = prepare(_spec(DetectedMask(detect=("text",))), encode(_photo()))
    assert np.array_equal(both.plan.fill_mask, both.plan.fill_mask | text.plan.fill_mask)


def test_nothing_found_is_nothing_to_remove(detectors: Path) -> None:
    with pytest.raises(InputError) as caught:
        prepare(_spec(DetectedMask(detect=("text",))), encode(_plain()))
    assert (caught.value.code, caught.value.field) == (ErrorCode.NOTHING_TO_REMOVE, "detect")
    assert "no text was found" in caught.value.message


def test_boxes_and_a_painted_mask_are_added_to_what_is_found(detectors: Path) -> None:
    painted = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    painted[10:20, 10:20] = 255
    geometry = DetectedMask(detect=("text",), boxes=(Box(x=200, y=10, width=10, height=10),))
    fill = prepare(_spec(geometry), encode(_photo()), encode(painted)).plan.fill_mask
    assert fill[CAPTION].all()
    assert fill[10:20, 10:20].all()
    assert fill[10:20, 200:210].all()
    # nothing detected, but the boxes still mark something: a removal, not an error
    only_boxes = prepare(_spec(geometry), encode(_plain())).plan.fill_mask
    assert only_boxes[10:20, 200:210].all()
    assert int(only_boxes.sum()) == 100


def test_grow_widens_what_is_found(detectors: Path) -> None:
    plain = prepare(_spec(DetectedMask(detect=("text",))), encode(_photo())).plan.fill_mask
    grown = prepare(_spec(DetectedMask(detect=("text",), grow=6)), encode(_photo()))
    assert int(grown.plan.fill_mask.sum()) > int(plain.sum())


def test_acceptance_never_detects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_models(tmp_path, monkeypatch)  # no weights at all: acceptance does not need them

    def never(*args: object) -> None:
        raise AssertionError("detection ran at acceptance")

    monkeypatch.setattr(detect, "detect", never)
    budget = MemoryBudget(2**26)
    check(_spec(DetectedMask(detect=("text", "subject"))), encode(_photo()), None, budget=budget)
    assert budget.used == 0
    # but a painted mask beside it is checked there, as for any mask
    with pytest.raises(InputError) as caught:
        check(
            _spec(DetectedMask(detect=("text",))),
            encode(_photo()),
            encode(np.zeros((10, 10), dtype=np.uint8)),
            budget=budget,
        )
    assert caught.value.code is ErrorCode.MASK_SIZE_MISMATCH


def test_missing_weights_name_the_model_to_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_models(tmp_path, monkeypatch)
    with pytest.raises(EngineError, match="canvasfill models pull ppocr-det"):
        prepare(_spec(DetectedMask(detect=("text",))), encode(_photo()))
    with pytest.raises(EngineError, match="canvasfill models pull u2netp"):
        prepare(_spec(DetectedMask(detect=("subject",))), encode(_photo()))


def test_the_geometry_round_trips_with_its_kinds_in_one_order() -> None:
    geometry = DetectedMask(detect=("subject", "text"), grow=2)
    assert geometry.detect == ("text", "subject")
    spec = _spec(geometry)
    assert JobSpec.model_validate_json(spec.model_dump_json()) == spec
    with pytest.raises(ValidationError):
        DetectedMask(detect=())
    with pytest.raises(ValidationError):
        DetectedMask.model_validate({"detect": ["faces"]})


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("text", ("text",)),
        ("subject", ("subject",)),
        ("subject, text", ("text", "subject")),
        ("TEXT,text", ("text",)),
    ],
)
def test_parse_detect(text: str, kinds: tuple[str, ...]) -> None:
    assert parse_detect(text) == kinds


@pytest.mark.parametrize("text", ["", "faces", "text,faces", ","])
def test_parse_detect_refuses_unknown_kinds(text: str) -> None:
    with pytest.raises(ValueError, match="detect must be text, subject"):
        parse_detect(text)
