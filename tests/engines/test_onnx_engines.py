"""MI-GAN and LaMa engines, end to end on tiny graphs with the published signatures."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto
from PIL import Image

from canvasfill.engines import onnx_session
from canvasfill.engines.base import FillParams, Operation
from canvasfill.engines.lama import LamaEngine
from canvasfill.engines.migan import MiganEngine
from canvasfill.engines.registry import choose_engine
from canvasfill.errors import EngineError, FillCanceledError
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import Box, BoxRemoval, JobSpec, PixelExpansion
from tests.engines.onnx_graphs import install, isolate_models, lama_like, migan_like

RED, GREEN = (255, 0, 0), (0, 255, 0)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_models(tmp_path, monkeypatch)


@pytest.fixture
def lama(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install("lama", lama_like(tmp_path / "lama.onnx", RED), monkeypatch)


@pytest.fixture
def migan(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install("migan", migan_like(tmp_path / "migan.onnx", GREEN), monkeypatch)


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def hole(height: int, width: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def params(n: int = 1, operation: Operation = Operation.REMOVE) -> FillParams:
    return FillParams(seed=1, operation=operation, n=n)


def test_migan_sends_uint8_planar_with_255_meaning_keep(migan: Path) -> None:
    image, mask = photo(200, 300), hole(200, 300, 40, 50, 90, 120)
    [filled] = MiganEngine().fill(image, mask, params())
    assert (filled[mask] == GREEN).all(), "the hole was sent as 0 and filled by the graph"
    np.testing.assert_array_equal(filled[~mask], image[~mask])


def test_lama_sends_float_0_to_1_with_1_meaning_fill_and_reads_0_to_255(lama: Path) -> None:
    image, mask = photo(512, 512), hole(512, 512, 100, 100, 180, 160)
    filled, again = LamaEngine().fill(image, mask, params(n=2))
    assert (filled[mask] == RED).all(), "RGB order and the 0..255 output scale kept exactly"
    np.testing.assert_array_equal(filled[~mask], image[~mask])
    np.testing.assert_array_equal(filled, again)


def test_lama_crops_a_512_window_around_a_hole_in_a_large_image(
    lama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...]] = []
    engine = LamaEngine()
    original = engine.infer

    def spy(session: object, pixels: np.ndarray, holes: np.ndarray) -> np.ndarray:
        seen.append(pixels.shape)
        return original(session, pixels, holes)

    monkeypatch.setattr(engine, "infer", spy)
    image, mask = photo(900, 1300), hole(900, 1300, 1000, 700, 1040, 760)
    [filled] = engine.fill(image, mask, params())
    assert seen == [(512, 512, 3)]
    assert (filled[mask] == RED).all(), "a full-resolution window: no resampling of the fill"


def test_lama_resizes_a_non_square_canvas_to_512_and_back(lama: Path) -> None:
    image, mask = photo(150, 260), hole(150, 260, 100, 40, 160, 110)
    [filled] = LamaEngine().fill(image, mask, params())
    inner = hole(150, 260, 108, 48, 152, 102)
    assert np.abs(filled[inner].astype(int) - RED).max() <= 2
    np.testing.assert_array_equal(filled[~mask], image[~mask])


def test_sessions_are_created_once_per_process_and_reused(lama: Path) -> None:
    image, mask = photo(512, 512), hole(512, 512, 10, 10, 40, 40)
    engine = LamaEngine()
    engine.fill(image, mask, params())
    first = dict(onnx_session._sessions)
    engine.fill(image, mask, params())
    LamaEngine().fill(image, mask, params())
    assert len(first) == 1
    assert onnx_session._sessions == first
    assert next(iter(first.values())) is next(iter(onnx_session._sessions.values()))


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda p: lama_like(p, size=256), r"input image is tensor\(float\) \['batch', 3, 256"),
        (lambda p: lama_like(p, element=TensorProto.UINT8), r"input image is tensor\(uint8\)"),
        (lambda p: lama_like(p, output_name="inpainted"), "no output named 'output'"),
        (lambda p: migan_like(p), "input image is tensor\\(uint8\\)"),
    ],
)
def test_lama_refuses_a_file_whose_signature_is_not_the_export(
    tmp_path: Path,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    build: object,
    problem: str,
) -> None:
    assert callable(build)
    install("lama", build(tmp_path / "other.onnx"), monkeypatch)
    with pytest.raises(EngineError, match="is not the 'lama' export") as caught:
        LamaEngine().fill(photo(64, 64), hole(64, 64, 5, 5, 9, 9), params())
    assert caught.match(problem)
    assert "canvasfill models pull lama" in caught.value.message
    assert onnx_session._sessions == {}, "a refused file is never cached for later use"


def test_migan_refuses_a_lama_file(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("migan", lama_like(tmp_path / "lama.onnx"), monkeypatch)
    with pytest.raises(EngineError, match="no output named 'result'"):
        MiganEngine().fill(photo(64, 64), hole(64, 64, 5, 5, 9, 9), params())


def test_a_tampered_weights_file_is_refused_by_sha256_before_loading(lama: Path) -> None:
    data = bytearray(lama.read_bytes())
    data[-3] ^= 0x01
    lama.write_bytes(bytes(data))
    with pytest.raises(EngineError, match="does not match its pin"):
        LamaEngine().fill(photo(64, 64), hole(64, 64, 5, 5, 9, 9), params())
    assert onnx_session._sessions == {}


def test_availability_names_the_pull_command_until_weights_are_there(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = LamaEngine().availability()
    assert not missing.available
    assert "canvasfill models pull lama" in missing.reason
    install("lama", lama_like(tmp_path / "lama.onnx"), monkeypatch)
    assert LamaEngine().availability().available


def test_auto_prefers_lama_then_migan_for_removal(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    removal = params()
    assert choose_engine("auto", Operation.REMOVE, removal).name not in ("lama", "migan")
    install("migan", migan_like(tmp_path / "migan.onnx"), monkeypatch)
    assert choose_engine("auto", Operation.REMOVE, removal).name == "migan"
    install("lama", lama_like(tmp_path / "lama.onnx"), monkeypatch)
    assert choose_engine("auto", Operation.REMOVE, removal).name == "lama"
    assert LamaEngine().preference(Operation.REMOVE, removal) == 80
    assert MiganEngine().preference(Operation.REMOVE, removal) == 70


def test_naming_an_engine_without_weights_says_how_to_get_them(folder: Path) -> None:
    with pytest.raises(EngineError, match="canvasfill models pull migan"):
        choose_engine("migan", Operation.REMOVE, params())


def test_removal_through_the_job_pipeline_keeps_every_other_pixel_exact(lama: Path) -> None:
    image = photo(300, 400, seed=5)
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=BoxRemoval(boxes=(Box(x=120, y=80, width=60, height=50),)),
        seed=3,
        engine="lama",
        n=2,
    )
    output = run_job(spec, png(image))
    assert output.engine == "lama"
    assert len(output.images) == 2
    for result in output.images:
        pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))
        mask = hole(300, 400, 120, 80, 180, 130)
        np.testing.assert_array_equal(pixels[~mask], image[~mask])
        assert np.abs(pixels[100:110, 145:155].astype(int) - RED).max() <= 2


def test_expansion_through_the_job_pipeline_keeps_the_original_exact(migan: Path) -> None:
    image = photo(120, 160, seed=6)
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(left=40, right=40, top=0, bottom=30),
        seed=3,
        engine="migan",
    )
    [result] = run_job(spec, png(image)).images
    pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))
    assert pixels.shape == (150, 240, 3)
    np.testing.assert_array_equal(pixels[0:120, 40:200], image)
    assert (pixels[140:, 100:140] == GREEN).all()


def test_progress_is_reported_around_each_window_and_a_stop_skips_the_network(
    migan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, mask = photo(200, 300), hole(200, 300, 40, 50, 90, 120)
    seen: list[float] = []
    MiganEngine().fill(image, mask, params(), progress=lambda f: seen.append(f) is None and False)
    assert seen == [0.0, 1.0]
    engine = MiganEngine()
    runs: list[int] = []
    monkeypatch.setattr(engine, "infer", lambda *_args: runs.append(1))
    with pytest.raises(FillCanceledError):
        engine.fill(image, mask, params(), progress=lambda _fraction: True)
    assert runs == [], "stopped before the window was run"
