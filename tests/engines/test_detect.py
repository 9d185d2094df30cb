"""The detectors (issue 25) around tiny ONNX graphs with the real exports' signatures.

The graphs call bright pixels subject (U^2-Netp's) or text (PP-OCRv4 det's), so every
step around the network (input layout and normalisation, the size it runs at, the way
back to the image's size, the OpenCV post-process) is checked with known answers.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from canvasfill.engines.detect import subject, text
from canvasfill.errors import EngineError
from tests.engines.onnx_graphs import install, isolate_models, ppocr_det_like, u2netp_like


@pytest.fixture
def detectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = isolate_models(tmp_path, monkeypatch)
    install("u2netp", u2netp_like(tmp_path / "u2netp_like.onnx"), monkeypatch)
    install("ppocr-det", ppocr_det_like(tmp_path / "ppocr_like.onnx"), monkeypatch)
    return folder


def test_subject_keeps_the_large_component_fills_its_holes_and_dilates(detectors: Path) -> None:
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    cv2.circle(image, (320, 240), 150, (255, 255, 255), -1)
    cv2.circle(image, (320, 240), 40, (0, 0, 0), -1)  # a hole in the subject
    cv2.circle(image, (30, 30), 3, (255, 255, 255), -1)  # a speck
    found = subject.subject_mask(image)
    assert found.shape == (480, 640)
    assert found[240, 320], "the hole is filled"
    assert found[240, 320 + 150 + 2], "dilated past the subject's edge"
    assert not found[240, 320 + 150 + 20]
    assert not found[30, 30], "the speck is dropped"
    disc = np.zeros((480, 640), dtype=np.uint8)
    cv2.circle(disc, (320, 240), 150, 1, -1)
    assert found[disc > 0].mean() > 0.99


def test_subject_finds_nothing_in_an_empty_image(detectors: Path) -> None:
    assert not subject.subject_mask(np.zeros((100, 200, 3), dtype=np.uint8)).any()


def test_subject_input_is_normalised_as_u2net_expects() -> None:
    image = np.full((10, 20, 3), 128, dtype=np.uint8)
    tensor = subject.to_input(image)
    assert tensor.shape == (1, 3, 320, 320)
    assert tensor.dtype == np.float32
    expected = (1.0 - subject.MEAN) / subject.STD  # scaled by its own maximum first
    assert np.allclose(tensor[0, :, 0, 0], expected, atol=1e-5)


def test_text_boxes_cover_a_line_and_a_rotated_line_and_nothing_else(detectors: Path) -> None:
    image = np.zeros((400, 900, 3), dtype=np.uint8)
    cv2.rectangle(image, (100, 300), (500, 330), (255, 255, 255), -1)  # a caption
    line = np.array(cv2.boxPoints(((650, 150), (300, 24), 30.0)), dtype=np.int32)
    cv2.fillPoly(image, [line], (255, 255, 255))  # slanted text
    found = text.text_mask(image)
    assert found.shape == (400, 900)
    caption = np.zeros((400, 900), dtype=np.uint8)
    cv2.rectangle(caption, (100, 300), (500, 330), 1, -1)
    slanted = np.zeros((400, 900), dtype=np.uint8)
    cv2.fillPoly(slanted, [line], 1)
    assert found[caption > 0].all()
    assert found[slanted > 0].all()
    assert not found[:100, :300].any(), "nothing where there is no text"
    # the graph answers on the whole line, not on DB's shrunk core, so unclipping
    # (about 22 px a side for a 30 px line) makes each box roughly three times its line
    painted = int((caption > 0).sum() + (slanted > 0).sum())
    assert painted < int(found.sum()) < 4 * painted, "unclipped and dilated, not a huge blob"
    # the rotated box follows the slant: the upright box around it is not all marked
    ys, xs = np.nonzero(slanted)
    assert found[ys.min() : ys.max(), xs.min() : xs.max()].mean() < 0.8


def test_text_finds_nothing_in_a_plain_image(detectors: Path) -> None:
    assert not text.text_mask(np.full((120, 160, 3), 10, dtype=np.uint8)).any()


def test_text_drops_what_the_network_is_unsure_of(detectors: Path) -> None:
    image = np.zeros((200, 200, 3), dtype=np.uint8)
    image[50:150, 20:180] = 100  # probability 0.39: above the pixel, below the box threshold
    assert not text.text_mask(image).any()
    image[50:150, 20:180] = 160  # 0.63: a box
    assert text.text_mask(image)[100, 100]


@pytest.mark.parametrize(
    ("size", "expected"),
    [((900, 400), (1600, 704)), ((100, 50), (1472, 736)), ((4000, 3000), (1600, 1216))],
)
def test_text_runs_at_multiples_of_32_short_side_736_long_side_capped(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert text.working_size(size) == expected


def test_text_input_is_bgr_in_minus_one_to_one() -> None:
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    image[..., 0] = 255  # red
    tensor = text.to_input(image, (32, 32))
    assert tensor.shape == (1, 3, 32, 32)
    assert np.allclose(tensor[0, :, 0, 0], [-1.0, -1.0, 1.0])


def test_missing_weights_name_the_model_to_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_models(tmp_path, monkeypatch)
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    with pytest.raises(EngineError, match="canvasfill models pull u2netp"):
        subject.subject_mask(image)
    with pytest.raises(EngineError, match="canvasfill models pull ppocr-det"):
        text.text_mask(image)


def test_a_file_with_other_names_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_models(tmp_path, monkeypatch)
    install("u2netp", ppocr_det_like(tmp_path / "wrong.onnx"), monkeypatch)
    with pytest.raises(EngineError, match="not the 'u2netp' export"):
        subject.subject_mask(np.zeros((64, 64, 3), dtype=np.uint8))
