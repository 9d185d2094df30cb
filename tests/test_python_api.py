"""``canvasfill.expand`` / ``canvasfill.remove`` from Python."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import canvasfill
from tests.conftest import encode


def test_expand_from_an_array(small_photo: np.ndarray) -> None:
    result = canvasfill.expand(small_photo, left=0.5, seed=3, engine="telea")
    assert result.seed == 3
    assert result.engine == "telea"
    assert result.images[0].size == (240, 120)
    assert np.array_equal(np.asarray(result.images[0])[:, 80:], small_photo)


def test_expand_by_pixels_from_a_path(tmp_path: Path, small_photo: np.ndarray) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(encode(small_photo))
    result = canvasfill.expand(path, top=10, bottom=6, pixels=True, n=2, engine="telea")
    assert [image.size for image in result.images] == [(160, 136), (160, 136)]


def test_remove_boxes_from_a_pillow_image(small_photo: np.ndarray) -> None:
    result = canvasfill.remove(Image.fromarray(small_photo), boxes=[(5, 5, 20, 20)], engine="ns")
    pixels = np.asarray(result.images[0])
    assert np.array_equal(pixels[30:], small_photo[30:])


def test_bad_input_raises_a_coded_error() -> None:
    with pytest.raises(canvasfill.InputError) as caught:
        canvasfill.expand(b"nope", left=0.1)
    assert caught.value.code is canvasfill.ErrorCode.INVALID_IMAGE


def test_remove_passes_strength_to_the_engine() -> None:
    grain = np.random.default_rng(2).integers(40, 200, (96, 96, 3), dtype=np.uint8)  # no phase
    box = [(24, 24, 48, 48)]
    sharp = canvasfill.remove(grain, boxes=box, engine="patch", seed=4)
    again = canvasfill.remove(grain, boxes=box, engine="patch", seed=4, strength=1.0)
    smooth = canvasfill.remove(grain, boxes=box, engine="patch", seed=4, strength=0.0)
    assert np.array_equal(np.asarray(sharp.images[0]), np.asarray(again.images[0]))
    assert not np.array_equal(np.asarray(sharp.images[0]), np.asarray(smooth.images[0]))
