"""An expansion with ``keep_out`` (native ``detect=subject`` on /v1/expand, issue 25): the
subject is found on the worker, placed on the canvas, and the fill copies nothing of it.

The detector is the tiny U^2-Netp-like graph of :mod:`tests.engines.onnx_graphs`: the
bright pole is the subject.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import canvasfill
from canvasfill.engines.base import Operation, Param
from canvasfill.pipeline.prepare import prepare
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import JobSpec, MaskRemoval, PixelExpansion
from tests.conftest import decode_pixels, encode
from tests.engines.onnx_graphs import install, isolate_models, u2netp_like

HEIGHT, WIDTH, ADD = 80, 128, 40
POLE = slice(56, 72)
FEATHER = 3
"""Rows of the border next to the photo that the compositor blends with the photo's
own edge (the patch engine's seam, 2 px, and one more): not the engine's choice."""


@pytest.fixture
def subject_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_models(tmp_path, monkeypatch)
    install("u2netp", u2netp_like(tmp_path / "u2netp_like.onnx"), monkeypatch)


def _photo() -> bytes:
    rng = np.random.default_rng(0)
    photo = rng.integers(10, 60, size=(HEIGHT, WIDTH, 3)).astype(np.uint8)
    photo[:, POLE] = 250
    return encode(photo)


def _spec(**changes: object) -> JobSpec:
    base: dict[str, object] = {
        "operation": Operation.EXPAND,
        "geometry": PixelExpansion(top=ADD, bottom=ADD),
        "seed": 4,
        "engine": "patch",
        "steps": 2,
    }
    return JobSpec.model_validate(base | changes)


def _bright_in_border(result: bytes) -> int:
    pixels = decode_pixels(result)
    border = np.concatenate([pixels[: ADD - FEATHER], pixels[ADD + HEIGHT + FEATHER :]])
    return int((border.min(axis=2) > 200).sum())


def test_the_subject_is_found_placed_on_the_canvas_and_not_copied(subject_detector: None) -> None:
    prepared = prepare(_spec(keep_out=("subject",)), _photo())
    assert prepared.keep_out is not None
    assert prepared.keep_out.shape == (HEIGHT + 2 * ADD, WIDTH)
    assert not prepared.keep_out[prepared.plan.fill_mask].any()
    assert prepared.keep_out[ADD : ADD + HEIGHT, POLE].all()
    assert not prepared.keep_out[ADD : ADD + HEIGHT, :40].any()

    copied = run_job(_spec(), _photo())
    kept_out = run_job(_spec(keep_out=("subject",)), _photo())
    assert _bright_in_border(copied.images[0].data) > 0
    assert _bright_in_border(kept_out.images[0].data) == 0
    assert Param.DETECT not in kept_out.ignored


def test_an_engine_that_cannot_keep_out_reports_detect_ignored(subject_detector: None) -> None:
    output = run_job(_spec(keep_out=("subject",), engine="telea"), _photo())
    assert Param.DETECT in output.ignored


def test_keep_out_belongs_to_an_expansion() -> None:
    with pytest.raises(ValidationError, match="keep_out belongs to an expansion"):
        _spec(operation=Operation.REMOVE, geometry=MaskRemoval(), keep_out=("subject",))


def test_the_python_api_expands_without_the_subject_and_finds_masks(
    subject_detector: None,
) -> None:
    photo = _photo()
    result = canvasfill.expand(photo, top=ADD, bottom=ADD, pixels=True, seed=4, steps=2,
                               engine="patch", detect="subject")  # fmt: skip
    pixels = np.asarray(result.images[0])
    border = np.concatenate([pixels[: ADD - FEATHER], pixels[ADD + HEIGHT + FEATHER :]])
    assert int((border.min(axis=2) > 200).sum()) == 0
    with pytest.raises(ValueError, match="subject"):
        canvasfill.expand(photo, top=ADD, pixels=True, detect="text")
    mask = canvasfill.find_mask(photo, "subject")
    assert (mask.mode, mask.size) == ("L", (WIDTH, HEIGHT))
    found = np.asarray(mask) == 255
    assert found[:, POLE].all()
    assert not found[:, :40].any()
