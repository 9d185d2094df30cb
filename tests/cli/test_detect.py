"""``canvasfill remove --detect`` and ``canvasfill.remove(detect=...)`` (issue 25), on the
tiny detector graphs of :mod:`tests.engines.onnx_graphs` (bright pixels are text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import canvasfill
from canvasfill.cli import app
from tests.conftest import decode_pixels, encode
from tests.engines.onnx_graphs import install, isolate_models, ppocr_det_like, u2netp_like

runner = CliRunner()
CAPTION = (slice(150, 170), slice(40, 280))


def _captioned() -> np.ndarray:
    image = np.full((200, 320, 3), 30, dtype=np.uint8)
    image[CAPTION] = 250
    return image


@pytest.fixture
def detectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = isolate_models(tmp_path, monkeypatch)
    install("u2netp", u2netp_like(tmp_path / "u2netp_like.onnx"), monkeypatch)
    install("ppocr-det", ppocr_det_like(tmp_path / "ppocr_like.onnx"), monkeypatch)
    return folder


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(encode(_captioned()))
    return path


def test_cli_remove_detect_text(detectors: Path, photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.png"
    result = runner.invoke(
        app, ["remove", str(photo), "-o", str(out), "--detect", "text", "--engine", "telea"]
    )
    assert result.exit_code == 0, result.stderr
    pixels = decode_pixels(out.read_bytes())
    assert pixels[CAPTION].mean() < 100, "the caption is gone"
    assert np.array_equal(pixels[:100], _captioned()[:100])


def test_cli_detect_with_a_box_and_bad_kinds(detectors: Path, photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.png"
    both = runner.invoke(
        app,
        ["remove", str(photo), "-o", str(out), "--detect", "text", "--box", "10,10,8,8"],
    )
    assert both.exit_code == 0, both.stderr
    bad = runner.invoke(app, ["remove", str(photo), "-o", str(out), "--detect", "faces"])
    assert bad.exit_code == 2
    assert "--detect" in bad.stderr
    neither = runner.invoke(app, ["remove", str(photo), "-o", str(out)])
    assert neither.exit_code == 2
    assert "--detect" in neither.stderr


def test_cli_nothing_found_is_a_clear_error(detectors: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    plain.write_bytes(encode(np.full((64, 64, 3), 30, dtype=np.uint8)))
    result = runner.invoke(
        app, ["remove", str(plain), "-o", str(tmp_path / "o.png"), "--detect", "text"]
    )
    assert result.exit_code != 0
    assert "no text was found" in result.stderr


def test_cli_missing_weights_name_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photo: Path
) -> None:
    isolate_models(tmp_path, monkeypatch)
    result = runner.invoke(
        app, ["remove", str(photo), "-o", str(tmp_path / "o.png"), "--detect", "subject"]
    )
    assert result.exit_code != 0
    assert "canvasfill models pull u2netp" in result.stderr


def test_python_remove_detect(detectors: Path) -> None:
    result = canvasfill.remove(_captioned(), detect="text", engine="telea")
    pixels = np.asarray(result.images[0])
    assert pixels[CAPTION].mean() < 100
    both = canvasfill.remove(_captioned(), detect=["subject", "text"], engine="telea")
    assert np.asarray(both.images[0])[CAPTION].mean() < 100
    with pytest.raises(canvasfill.InputError) as caught:
        canvasfill.remove(np.full((64, 64, 3), 30, dtype=np.uint8), detect="text")
    assert caught.value.code is canvasfill.ErrorCode.NOTHING_TO_REMOVE
    with pytest.raises(ValueError, match="detect must be"):
        canvasfill.remove(_captioned(), detect="faces")
