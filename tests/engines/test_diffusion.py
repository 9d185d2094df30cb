"""Diffusion engines, run for real on CPU with a tiny random SD inpainting pipeline."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from canvasfill.engines.base import FillParams, Operation, Param
from canvasfill.engines.diffusion import (
    FLUX_FILL,
    SD15,
    DiffusionEngine,
    FluxFillEngine,
    SdInpaintEngine,
    SdxlInpaintEngine,
    denoising_steps,
    soft_mask,
)
from canvasfill.engines.diffusion.loading import dtype_for
from canvasfill.engines.registry import choose_engine, get_engine
from canvasfill.engines.settings import Precision
from canvasfill.errors import EngineError, FillCanceledError, InputError
from canvasfill.pipeline.run import run_job
from canvasfill.pipeline.spec import JobSpec, PixelExpansion
from tests.engines.tiny_diffusion import (
    build_tiny_flux_fill,
    build_tiny_sd_inpaint,
    build_tiny_sdxl_inpaint,
)

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

WORK = 64
"""Working long side for the tiny model: small, so each run takes a fraction of a second."""


BUILDERS = {
    "sd-inpaint": build_tiny_sd_inpaint,
    "sdxl-inpaint": build_tiny_sdxl_inpaint,
    "flux-fill": build_tiny_flux_fill,
}
ENGINES: dict[str, type[DiffusionEngine]] = {
    "sd-inpaint": SdInpaintEngine,
    "sdxl-inpaint": SdxlInpaintEngine,
    "flux-fill": FluxFillEngine,
}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two shared cores: more threads only fight each other
    root = tmp_path_factory.mktemp("tiny")
    try:
        yield {name: build(root / name) for name, build in BUILDERS.items()}
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def all_configured(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    """Every diffusion engine pointed at its tiny model, on the CPU, at a small size."""
    for name, folder in tiny_models.items():
        monkeypatch.setenv(ENGINES[name].family.env, str(folder))
    monkeypatch.setenv("CANVASFILL_DIFFUSION_DEVICE", "cpu")
    monkeypatch.setenv("CANVASFILL_DIFFUSION_LONG_SIDE", str(WORK))
    return tiny_models


@pytest.fixture
def configured(all_configured: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Only sd-inpaint configured (so auto choice is about it alone)."""
    monkeypatch.delenv("CANVASFILL_SDXL_INPAINT_MODEL")
    monkeypatch.delenv("CANVASFILL_FLUX_FILL_MODEL")
    return all_configured["sd-inpaint"]


@pytest.fixture
def engine(configured: Path) -> SdInpaintEngine:
    return SdInpaintEngine()


def canvas(height: int = 60, width: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """An image with a 12-pixel border to fill, as an expansion canvas has."""
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.ones((height, width), dtype=bool)
    mask[12:-12, 12:-12] = False
    image[mask] = 0
    return image, mask


def params(**overrides: Any) -> FillParams:
    values: dict[str, Any] = {
        "seed": 42,
        "operation": Operation.EXPAND,
        "prompt": "a quiet lake",
        "steps": 3,
    }
    values.update(overrides)
    return FillParams(**values)


class UnetCalls:
    """Counts evaluations of the denoiser (UNet or FLUX transformer) and each one's batch."""

    def __init__(self, pipe: Any) -> None:
        self.batches: list[int] = []
        denoiser = getattr(pipe, "unet", None) or pipe.transformer
        self._handle = denoiser.register_forward_hook(self._seen, with_kwargs=True)

    def _seen(self, _module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], _out: Any) -> None:
        sample = args[0] if args else kwargs["hidden_states"]
        self.batches.append(int(sample.shape[0]))

    def close(self) -> None:
        self._handle.remove()


def test_fills_n_images_of_the_canvas_shape(engine: SdInpaintEngine) -> None:
    image, mask = canvas()
    results = engine.fill(image, mask, params(n=2))
    assert len(results) == 2
    for result in results:
        assert result.shape == image.shape
        assert result.dtype == np.uint8
        np.testing.assert_array_equal(result[~mask], image[~mask])
    assert not np.array_equal(results[0][mask], results[1][mask]), "each image has its own seed"


def test_same_seed_same_pixels_and_another_seed_other_pixels(engine: SdInpaintEngine) -> None:
    image, mask = canvas()
    first = engine.fill(image, mask, params(seed=5))
    again = SdInpaintEngine().fill(image, mask, params(seed=5))
    other = engine.fill(image, mask, params(seed=6))
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_family_fills_n_images_reproducibly_from_a_local_folder(
    all_configured: dict[str, Path], name: str
) -> None:
    image, mask = canvas()
    engine = ENGINES[name]()
    given = params(n=2, negative_prompt="people")  # flux-fill must leave this out
    first = engine.fill(image, mask, given)
    again = ENGINES[name]().fill(image, mask, given)
    assert [result.shape for result in first] == [image.shape, image.shape]
    for result, repeat in zip(first, again, strict=True):
        np.testing.assert_array_equal(result, repeat)
        np.testing.assert_array_equal(result[~mask], image[~mask])
    assert not np.array_equal(first[0][mask], first[1][mask])


@pytest.mark.parametrize("name", list(ENGINES))
def test_steps_and_strength_reach_the_scheduler(all_configured: dict[str, Path], name: str) -> None:
    engine = ENGINES[name]()
    image, mask = canvas()
    pipe, _device = engine.pipeline()
    calls = UnetCalls(pipe)
    try:
        engine.fill(image, mask, params(steps=4, strength=1.0))
        full = len(calls.batches)
        calls.batches.clear()
        engine.fill(image, mask, params(steps=4, strength=0.5))
        half = len(calls.batches)
    finally:
        calls.close()
    assert (full, half) == (4, 2), "strength 0.5 runs the last half of 4 steps"


def test_guidance_and_n_reach_the_unet_batch(engine: SdInpaintEngine) -> None:
    image, mask = canvas()
    pipe, _device = engine.pipeline()
    calls = UnetCalls(pipe)
    try:
        engine.fill(image, mask, params(n=3, steps=2, guidance_scale=5.0))
        guided = set(calls.batches)
        calls.batches.clear()
        engine.fill(image, mask, params(n=3, steps=2, guidance_scale=1.0))
        unguided = set(calls.batches)
    finally:
        calls.close()
    assert guided == {6}, "classifier-free guidance: 3 images, with and without the prompt"
    assert unguided == {3}


def test_the_pipeline_is_loaded_once_and_reused(engine: SdInpaintEngine) -> None:
    first, device = engine.pipeline()
    assert device == "cpu"
    assert engine.pipeline()[0] is first


def test_call_arguments_carry_every_parameter(engine: SdInpaintEngine) -> None:
    pixels = np.zeros((64, 48, 3), dtype=np.uint8)
    holes = np.zeros((64, 48), dtype=bool)
    holes[:, :10] = True
    given = params(n=2, steps=7, strength=0.6, guidance_scale=3.5, negative_prompt="people")
    arguments = engine.call_arguments(pixels, holes, given)
    assert arguments["prompt"] == "a quiet lake"
    assert arguments["negative_prompt"] == "people"
    assert (arguments["num_inference_steps"], arguments["strength"]) == (7, 0.6)
    assert (arguments["guidance_scale"], arguments["num_images_per_prompt"]) == (3.5, 2)
    assert (arguments["width"], arguments["height"]) == (48, 64)
    seeds = [generator.initial_seed() for generator in arguments["generator"]]
    assert seeds == [given.seed_for(0), given.seed_for(1)]
    defaults = engine.call_arguments(pixels, holes, params(steps=None))
    assert (defaults["num_inference_steps"], defaults["strength"]) == (SD15.steps, 1.0)
    assert defaults["guidance_scale"] == SD15.guidance


def test_flux_fill_takes_no_negative_prompt_and_its_own_defaults() -> None:
    pixels = np.zeros((32, 32, 3), dtype=np.uint8)
    holes = np.ones((32, 32), dtype=bool)
    arguments = FluxFillEngine().call_arguments(
        pixels, holes, params(steps=None, negative_prompt="people")
    )
    assert "negative_prompt" not in arguments
    assert arguments["guidance_scale"] == FLUX_FILL.guidance
    assert Param.NEGATIVE_PROMPT not in FluxFillEngine.honours
    assert Param.NEGATIVE_PROMPT in SdxlInpaintEngine.honours


def test_the_soft_mask_covers_the_hole_and_fades_outside_it() -> None:
    holes = np.zeros((64, 64), dtype=bool)
    holes[:, :20] = True
    soft = soft_mask(holes)
    assert (soft[holes] == 255).all()
    assert soft[:, 21].min() > 0, "the seam band is repainted too"
    assert soft[:, 40].max() == 0


def test_expansion_through_the_job_pipeline_keeps_the_original_exact(configured: Path) -> None:
    image = np.random.default_rng(3).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(left=10, right=6, top=8, bottom=0),
        seed=11,
        engine="sd-inpaint",
        prompt="more of the same",
        n=2,
        steps=2,
    )
    output = run_job(spec, buffer.getvalue())
    assert output.engine == "sd-inpaint"
    assert Param.PROMPT not in output.ignored
    assert len(output.images) == 2
    for result in output.images:
        pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))
        assert pixels.shape == (48, 66, 3)
        np.testing.assert_array_equal(pixels[8:48, 10:60], image)


def test_auto_picks_diffusion_for_a_prompted_expansion_only(configured: Path) -> None:
    expansion = params()
    assert choose_engine("auto", Operation.EXPAND, expansion).name == "sd-inpaint"
    assert get_engine("sd-inpaint").preference(Operation.EXPAND, expansion) == 100
    unprompted = params(prompt="")
    assert choose_engine("auto", Operation.EXPAND, unprompted).name != "sd-inpaint"
    removal = params(operation=Operation.REMOVE)
    assert choose_engine("auto", Operation.REMOVE, removal).name != "sd-inpaint"


def test_availability_says_what_is_missing(
    configured: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert SdInpaintEngine().availability().available
    monkeypatch.delenv("CANVASFILL_SD_INPAINT_MODEL")
    reason = SdInpaintEngine().availability().reason
    assert "CANVASFILL_SD_INPAINT_MODEL" in reason
    assert "internet" in reason
    monkeypatch.setenv("CANVASFILL_SD_INPAINT_MODEL", str(tmp_path / "absent"))
    assert "no such file or folder" in SdInpaintEngine().availability().reason
    monkeypatch.setenv("CANVASFILL_SD_INPAINT_MODEL", str(configured))
    monkeypatch.setenv("CANVASFILL_DIFFUSION_DEVICE", "auto")
    if not torch.cuda.is_available():
        assert "no CUDA GPU" in SdInpaintEngine().availability().reason
        with pytest.raises(EngineError, match="no CUDA GPU"):
            choose_engine("sd-inpaint", Operation.EXPAND, params())


def test_a_hub_id_that_cannot_be_fetched_says_internet_is_needed(
    configured: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers

    def offline(*_args: object, **_kwargs: object) -> None:
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    monkeypatch.setattr(diffusers.StableDiffusionInpaintPipeline, "from_pretrained", offline)
    monkeypatch.setenv("CANVASFILL_SD_INPAINT_MODEL", "someone/some-inpainting-model")
    with pytest.raises(EngineError, match="needs internet on this host") as caught:
        SdInpaintEngine().pipeline()
    assert "CANVASFILL_SD_INPAINT_MODEL=DIR" in caught.value.message


def test_precision_defaults_per_family_and_device() -> None:
    assert dtype_for(SD15, "cpu", Precision.AUTO) == torch.float32
    assert dtype_for(SD15, "cuda", Precision.AUTO) == torch.float16
    assert dtype_for(FLUX_FILL, "cuda", Precision.AUTO) == torch.bfloat16
    assert dtype_for(SD15, "cuda", Precision.FP32) == torch.float32


def test_a_low_strength_still_runs_one_step_and_zero_is_refused() -> None:
    assert denoising_steps(30, 1.0) == 30
    assert denoising_steps(5, 0.1) == 10, "int(10 * 0.1) = 1 step"
    assert int(denoising_steps(3, 0.3) * 0.3) >= 1
    with pytest.raises(InputError, match="strength must be above 0"):
        denoising_steps(30, 0.0)


def test_progress_hears_every_denoising_step_and_a_stop_ends_the_fill(
    engine: SdInpaintEngine,
) -> None:
    image, mask = canvas()
    seen: list[float] = []

    def record(fraction: float) -> bool:
        seen.append(fraction)
        return False

    engine.fill(image, mask, params(steps=3, strength=1.0), progress=record)
    assert seen == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0, 1.0])
    pipe, _device = engine.pipeline()
    calls = UnetCalls(pipe)
    try:
        with pytest.raises(FillCanceledError):
            engine.fill(image, mask, params(steps=3, strength=1.0), progress=lambda f: f > 0)
    finally:
        calls.close()
    assert len(calls.batches) == 1, "stopped after the first step"
