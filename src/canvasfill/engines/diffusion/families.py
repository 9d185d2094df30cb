"""The model families diffusion engines run: SD 1.5, SDXL and FLUX Fill inpainting.

Everything that differs between them (the diffusers pipeline class, the setting that
names the weights, the working size and the multiple its sides must be, the default
steps, guidance and strength, the precision they prefer on a GPU, whether they take a
negative prompt) is data here, so the engine and the loader have no per-family
branches.
"""

from __future__ import annotations

from dataclasses import dataclass

from canvasfill.engines.setting_types import Precision


@dataclass(frozen=True)
class Family:
    """What differs between the model families: pipeline, sizes, defaults, precision."""

    pipeline: str
    setting: str
    """The ``EngineSettings`` field naming the weights."""
    example: str
    long_side: int
    multiple: int
    steps: int
    guidance: float
    strength: float
    gpu_precision: Precision
    negative_prompt: bool = True

    @property
    def env(self) -> str:
        """The environment variable that names the weights (the TOML key is ``setting``)."""
        return f"CANVASFILL_{self.setting.upper()}"


SD15 = Family(
    pipeline="StableDiffusionInpaintPipeline",
    setting="sd_inpaint_model",
    example="stable-diffusion-v1-5/stable-diffusion-inpainting",
    long_side=512,
    multiple=8,
    steps=30,
    guidance=7.5,
    strength=1.0,
    gpu_precision=Precision.FP16,
)
SDXL = Family(
    pipeline="StableDiffusionXLInpaintPipeline",
    setting="sdxl_inpaint_model",
    example="diffusers/stable-diffusion-xl-1.0-inpainting-0.1",
    long_side=1024,
    multiple=8,
    steps=30,
    guidance=8.0,
    strength=0.99,  # the SDXL inpainting model's own advice: 1.0 ignores the image entirely
    gpu_precision=Precision.FP16,
)
FLUX_FILL = Family(
    pipeline="FluxFillPipeline",
    setting="flux_fill_model",
    example="black-forest-labs/FLUX.1-Fill-dev",
    long_side=1024,
    multiple=16,
    steps=28,
    guidance=30.0,
    strength=1.0,
    gpu_precision=Precision.BF16,
    negative_prompt=False,
)
