"""The ``canvasfill`` command on real files written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from canvasfill.api.native.schema import Pixels, Ratios
from canvasfill.cli import app
from canvasfill.imaging.limits import MAX_EXPAND_PIXELS, MAX_EXPAND_RATIO
from tests.conftest import decode_pixels, encode

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def photo_jpeg(tmp_path: Path, photo: np.ndarray) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(photo, "JPEG", quality=92))
    return path


def test_expand_keeps_the_decoded_photo_exactly(photo_jpeg: Path, tmp_path: Path) -> None:
    """The issue's check: 768x512 JPEG, --left 0.25 --right 0.25 -> 1152x512 PNG."""
    out = tmp_path / "out.png"
    code, _, stderr = _invoke(
        "expand", str(photo_jpeg), "-o", str(out), "--left", "0.25", "--right", "0.25"
    )
    assert code == 0, stderr
    result = decode_pixels(out.read_bytes())
    assert result.shape == (512, 1152, 3)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    decoded_input = decode_pixels(photo_jpeg.read_bytes())
    assert np.array_equal(result[:, 192:960], decoded_input)


def test_json_summary_and_numbered_outputs(photo_jpeg: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.webp"
    code, stdout, stderr = _invoke(
        "expand",
        str(photo_jpeg),
        "-o",
        str(out),
        "--top-px",
        "16",
        "-n",
        "2",
        "--seed",
        "123",
        "--engine",
        "telea",
        "--json",
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["seed"] == 123
    assert summary["engine"] == "telea"
    assert summary["outputs"] == [str(tmp_path / "wide-1.webp"), str(tmp_path / "wide-2.webp")]
    assert summary["sizes"] == [[768, 528], [768, 528]]
    assert (tmp_path / "wide-2.webp").read_bytes()[8:12] == b"WEBP"


def test_random_seed_is_reported(photo_jpeg: Path, tmp_path: Path) -> None:
    code, stdout, _ = _invoke(
        "expand", str(photo_jpeg), "-o", str(tmp_path / "x.png"), "--left-px", "8", "--json"
    )
    assert code == 0
    assert 1 <= json.loads(stdout)["seed"] <= 4_294_967_294


def test_max_size_and_format(photo_jpeg: Path, tmp_path: Path) -> None:
    out = tmp_path / "small"
    code, stdout, _ = _invoke(
        "expand",
        str(photo_jpeg),
        "-o",
        str(out),
        "--right",
        "0.5",
        "--max-width",
        "576",
        "--format",
        "jpeg",
        "--json",
    )
    assert code == 0
    written = Path(json.loads(stdout)["outputs"][0])
    assert written.suffix == ".jpg"
    assert decode_pixels(written.read_bytes()).shape == (256, 576, 3)  # 1152x512 fitted


@pytest.mark.parametrize("name", ["out.gif", "out.TIFF", "out.v2"])
def test_an_output_suffix_it_cannot_write_is_refused_with_the_ones_it_can(
    photo_jpeg: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    for extra in ([], ["--format", "png"]):
        code, stdout, stderr = _invoke(
            "expand", str(photo_jpeg), "-o", str(out), "--left", "0.1", *extra
        )
        assert code == 2
        assert stdout == ""
        [line] = stderr.splitlines()
        assert f"cannot write {out.suffix.lower()} files" in line
        assert ".png, .jpg, .jpeg, .webp" in line
        assert not out.exists()


def test_remove_with_boxes(photo_jpeg: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.png"
    code, _, stderr = _invoke(
        "remove", str(photo_jpeg), "-o", str(out), "--box", "100,100,50,40", "--box", "300,20,10,10"
    )
    assert code == 0, stderr
    original = decode_pixels(photo_jpeg.read_bytes())
    result = decode_pixels(out.read_bytes())
    assert np.array_equal(result[140:], original[140:])  # below both boxes
    assert np.array_equal(result[:, :100], original[:, :100])  # left of both boxes
    # the box lies in the smooth sky: any engine's fill must come out close to what was there
    box_error = np.abs(result[100:140, 100:150].astype(int) - original[100:140, 100:150]).mean()
    assert box_error < 12


def test_remove_with_a_mask_file(photo_jpeg: Path, tmp_path: Path) -> None:
    mask = np.zeros((512, 768), dtype=np.uint8)
    mask[200:260, 300:380] = 255
    mask_path = tmp_path / "mask.png"
    mask_path.write_bytes(encode(mask))
    out = tmp_path / "clean.png"
    code, _, _ = _invoke("remove", str(photo_jpeg), "-o", str(out), "--mask", str(mask_path))
    assert code == 0
    keep = mask == 0
    original = decode_pixels(photo_jpeg.read_bytes())
    assert np.array_equal(decode_pixels(out.read_bytes())[keep], original[keep])


def test_folder_batch_lists_failures_and_goes_on(tmp_path: Path, small_photo: np.ndarray) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.png").write_bytes(encode(small_photo))
    (inputs / "b.jpg").write_bytes(encode(small_photo, "JPEG"))
    (inputs / "broken.png").write_bytes(b"not an image at all")
    (inputs / "notes.txt").write_text("ignored")
    outputs = tmp_path / "out"
    code, stdout, _ = _invoke("expand", str(inputs), "-o", str(outputs), "--left", "0.1", "--json")
    assert code == 1  # a failure in the batch is reported in the exit code
    summary = json.loads(stdout)
    assert sorted(Path(item["outputs"][0]).name for item in summary["items"]) == ["a.png", "b.png"]
    assert [Path(item["input"]).name for item in summary["failures"]] == ["broken.png"]
    assert summary["failures"][0]["code"] == "invalid_image"
    assert decode_pixels((outputs / "a.png").read_bytes()).shape == (120, 176, 3)


def test_bad_input_is_one_line_on_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    code, stdout, stderr = _invoke("expand", str(bad), "-o", str(tmp_path / "o.png"), "--left", "1")
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    "args",
    [
        ["expand", "{photo}", "-o", "{out}"],  # no geometry
        ["expand", "{photo}", "-o", "{out}", "--left", "0.1", "--left-px", "3"],  # two
        ["remove", "{photo}", "-o", "{out}"],  # neither mask nor box
        ["remove", "{photo}", "-o", "{out}", "--box", "1,2,3"],
        ["remove", "{photo}", "-o", "{out}", "--box", "900,900,5,5"],  # outside the image
        ["expand", "{photo}", "-o", "{out}", "--left", "0.1", "--engine", "nope"],
        ["expand", "{photo}", "-o", "{out}", "--left", "0.1", "--format", "gif"],
        ["expand", "{missing}", "-o", "{out}", "--left", "0.1"],
    ],
)
def test_usage_errors_exit_non_zero_without_a_traceback(
    args: list[str], photo_jpeg: Path, tmp_path: Path
) -> None:
    filled = [
        arg.format(photo=photo_jpeg, out=tmp_path / "o.png", missing=tmp_path / "missing.png")
        for arg in args
    ]
    code, _, stderr = _invoke(*filled)
    assert code == 2
    assert "Traceback" not in stderr
    assert stderr.strip().startswith("error:")


def test_engines_table_and_json() -> None:
    code, stdout, _ = _invoke("engines", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(stdout)}
    assert rows["telea"]["available"] is True
    assert rows["telea"]["hardware"] == "cpu"
    code, stdout, _ = _invoke("engines")
    assert code == 0
    assert "telea" in stdout


@pytest.mark.slow  # a fresh process compiles the engine
def test_demo_writes_a_sample_and_its_expansion(tmp_path: Path) -> None:
    code, stdout, _ = _invoke("demo", "--folder", str(tmp_path))
    assert code == 0
    assert decode_pixels((tmp_path / "sample-expanded.png").read_bytes()).shape == (614, 1152, 3)
    assert "sample-expanded.png" in stdout


def test_error_messages_are_printed_with_their_brackets(tmp_path: Path) -> None:
    """rich would read ``[1]`` as markup and drop it: the printed line must keep it."""
    missing = tmp_path / "photo[1].png"
    code, stdout, stderr = _invoke(
        "expand", str(missing), "-o", str(tmp_path / "o.png"), "--left", "0.1"
    )
    assert (code, stdout) == (2, "")
    assert stderr.strip() == f"error: {missing}: no such file or folder"


def test_written_paths_are_printed_with_their_brackets(photo_jpeg: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide[v2].png"
    code, stdout, stderr = _invoke(
        "expand", str(photo_jpeg), "-o", str(out), "--left-px", "8", "--engine", "telea"
    )
    assert code == 0, stderr
    assert stdout.splitlines()[0] == f"wrote {out}"


def test_the_operators_default_engine_applies_without_engine(
    photo_jpeg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``default_engine`` (here from the environment) is the CLI's engine too."""
    monkeypatch.setenv("CANVASFILL_DEFAULT_ENGINE", "ns")
    out = str(tmp_path / "x.png")
    code, stdout, stderr = _invoke("expand", str(photo_jpeg), "-o", out, "--left-px", "8", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["engine"] == "ns"
    code, stdout, _ = _invoke(
        "expand", str(photo_jpeg), "-o", out, "--left-px", "8", "--engine", "telea", "--json"
    )
    assert json.loads(stdout)["engine"] == "telea"  # a named engine wins


@pytest.mark.parametrize(
    ("flag", "value", "bound"),
    [
        ("--left", "20", MAX_EXPAND_RATIO),
        ("--bottom", "10.5", MAX_EXPAND_RATIO),
        ("--right-px", "9000", MAX_EXPAND_PIXELS),
    ],
)
def test_an_expansion_past_the_apis_limit_is_refused_as_the_api_refuses_it(
    flag: str, value: str, bound: float, photo_jpeg: Path, tmp_path: Path
) -> None:
    """One source for both: the native API's schema bounds are the CLI's (``limits``)."""
    out = tmp_path / "o.png"
    code, stdout, stderr = _invoke("expand", str(photo_jpeg), "-o", str(out), flag, value)
    assert code == 2
    assert stdout == ""
    assert f"'{flag}'" in stderr
    assert f"less than or equal to {bound:g}" in stderr
    assert not out.exists()
    side = flag.removeprefix("--").removesuffix("-px")
    model = Pixels if flag.endswith("-px") else Ratios
    with pytest.raises(ValidationError, match=f"less than or equal to {bound:g}"):
        model.model_validate({side: float(value) if model is Ratios else int(value)})
    model.model_validate({side: bound})
