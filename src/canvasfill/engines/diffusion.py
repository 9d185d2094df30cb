"""Diffusion engines: ``sd-inpaint``, ``sdxl-inpaint`` and ``flux-fill`` (diffusers).

Prompt-guided expansion and removal with the model families hosted services use.
They need the ``diffusion`` extra (``pip install 'canvasfill[diffusion]'``: torch,
diffusers, transformers, accelerate), a CUDA GPU (``CANVASFILL_DIFFUSION_DEVICE=cpu``
forces the CPU, which works and is very slow), and weights named in settings:

- ``CANVASFILL_SD_INPAINT_MODEL``: e.g. a folder with a diffusers copy of
  ``stable-diffusion-v1-5/stable-diffusion-inpainting``;
- ``CANVASFILL_SDXL_INPAINT_MODEL``: e.g. ``diffusers/stable-diffusion-xl-1.0-inpainting-0.1``;
- ``CANVASFILL_FLUX_FILL_MODEL``: e.g. ``black-forest-labs/FLUX.1-Fill-dev``.

Each is a local diffusers folder, a single-file checkpoint (``.safetensors``), or a
Hugging Face hub id; a hub id downloads on first use, which only works where this
host has internet (and, for gated models, a token).

How a fill runs: the hole gets a cheap first guess (``prefill``: nearest known colour,
smoothed), the canvas is cut into windows around the holes and each window is scaled
to the model's working size (long side 512 for SD 1.5, 1024 for SDXL and FLUX; width
and height multiples of 8, or 16 for FLUX); the mask's edge is widened and blurred so
the model repaints a seam band; the pipeline runs with ``prompt``,
``negative_prompt`` (not FLUX Fill, which has none), ``num_inference_steps`` = steps,
``strength``, ``guidance_scale``, one seeded ``torch.Generator`` per image
(``FillParams.seed_for(i)``, created on the CPU so a seed means the same pixels on any
device) and ``num_images_per_prompt`` = n; each result's colours are matched to its
surroundings (``colour``), scaled back, and the core composites it so the known
pixels come back exactly.

Stability's ``creativity`` (0..1) has no direct twin in diffusers: the Stability
dialect (``api/dialects/stability.py``) turns it into ``strength`` with
:func:`strength_from_creativity` when it builds the job spec.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from canvasfill.engines.base import (
    RGB,
    Availability,
    Engine,
    FillParams,
    Hardware,
    Mask,
    Operation,
    Param,
)
from canvasfill.engines.colour import match_colours
from canvasfill.engines.prefill import prefill
from canvasfill.engines.registry import register
from canvasfill.engines.settings import (
    EngineSettings,
    Offload,
    Precision,
    engine_settings,
)
from canvasfill.engines.windows import WindowPolicy, run_windowed_many
from canvasfill.errors import EngineError, ErrorCode, InputError

EXTRA_MODULES = ("torch", "diffusers", "transformers", "accelerate")
INSTALL_HINT = "pip install 'canvasfill[diffusion]'"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def strength_from_creativity(creativity: float) -> float:
    """Stability's ``creativity`` (0..1, default 0.5) as a diffusion ``strength``.

    Strength is how much of the starting image is noised away. Below about 0.5 an
    expansion keeps the smooth first guess and looks blurred, so creativity spans
    0.5..1: the default 0.5 becomes 0.75, and 1 lets the model ignore the guess.
    """
    return 0.5 + 0.5 * min(max(creativity, 0.0), 1.0)


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


def _source_kind(source: str) -> str:
    path = Path(source).expanduser()
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "file"
    if _HUB_ID.fullmatch(source) and not source.startswith((".", "~")):
        return "hub"
    return "missing"


class DiffusionEngine(Engine):
    """One diffusers inpainting pipeline, loaded once per process and run one fill at a time."""

    hardware: ClassVar[Hardware] = Hardware.GPU
    family: ClassVar[Family]
    expansion_rank: ClassVar[int]

    def __init__(self) -> None:
        self._pipe: Any = None
        self._pipe_key: tuple[object, ...] | None = None
        # a pipeline keeps per-call state (the scheduler's timesteps): one fill at a time
        self._lock = threading.Lock()

    # -- choosing -------------------------------------------------------------------
    def availability(self) -> Availability:
        missing = [name for name in EXTRA_MODULES if find_spec(name) is None]
        if missing:
            return Availability(
                False,
                f"the diffusion extra is not installed ({', '.join(missing)}): {INSTALL_HINT}",
            )
        settings = engine_settings()
        source = getattr(settings, self.family.setting)
        if not source:
            return Availability(
                False,
                f"no weights: set {self.family.env} to a local folder, or a hub id such as "
                f"{self.family.example} (needs internet)",
            )
        if _source_kind(source) == "missing":
            return Availability(False, f"{self.family.env}={source}: no such file or folder")
        device_problem = _device_problem(settings)
        if device_problem:
            return Availability(False, device_problem)
        return Availability(True)

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        """First choice for an expansion with a prompt; never chosen automatically otherwise."""
        if operation is Operation.EXPAND and params.prompt.strip():
            return self.expansion_rank
        return None

    # -- loading --------------------------------------------------------------------
    def pipeline(self) -> tuple[Any, str]:
        """The loaded pipeline and its device; reloaded only when a setting changed."""
        settings = engine_settings()
        source = getattr(settings, self.family.setting)
        if not source:
            raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, self.availability().reason)
        device = _device(settings)
        key = (
            source,
            device,
            settings.diffusion_precision,
            settings.diffusion_offload,
            settings.diffusion_attention_slicing,
            settings.diffusion_vae_tiling,
        )
        if self._pipe is None or self._pipe_key != key:
            self._pipe = None  # let the old one go before loading another
            self._pipe = _load(self.family, source, device, settings)
            self._pipe_key = key
        return self._pipe, device

    # -- filling --------------------------------------------------------------------
    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        settings = engine_settings()
        long_side = settings.diffusion_long_side or self.family.long_side
        policy = WindowPolicy(
            min_side=long_side,
            max_side=long_side,
            margin=0.5,
            multiple=self.family.multiple,
            upscale=True,
        )
        start = prefill(image, mask)
        with self._lock:
            pipe, _device_name = self.pipeline()

            def infer(pixels: RGB, holes: Mask) -> list[RGB]:
                return self._generate(pipe, pixels, holes, params, settings.diffusion_colour_match)

            return run_windowed_many(start, mask, infer, policy, params.n)

    def call_arguments(self, pixels: RGB, holes: Mask, params: FillParams) -> dict[str, Any]:
        """The keyword arguments of the pipeline call for one window."""
        import torch
        from PIL import Image

        height, width = holes.shape
        family = self.family
        strength = family.strength if params.strength is None else params.strength
        steps = denoising_steps(params.steps or family.steps, strength)
        arguments: dict[str, Any] = {
            "prompt": params.prompt,
            "image": Image.fromarray(pixels),
            "mask_image": Image.fromarray(soft_mask(holes)),
            "height": height,
            "width": width,
            "num_inference_steps": steps,
            "strength": strength,
            "guidance_scale": (
                family.guidance if params.guidance_scale is None else params.guidance_scale
            ),
            "num_images_per_prompt": params.n,
            "generator": [
                torch.Generator("cpu").manual_seed(params.seed_for(i)) for i in range(params.n)
            ],
            "output_type": "np",
        }
        if family.negative_prompt and params.negative_prompt:
            arguments["negative_prompt"] = params.negative_prompt
        return arguments

    def _generate(
        self, pipe: Any, pixels: RGB, holes: Mask, params: FillParams, colour_match: bool
    ) -> list[RGB]:
        import torch

        arguments = self.call_arguments(pixels, holes, params)
        with torch.inference_mode():
            images = np.asarray(pipe(**arguments).images)
        results = []
        for generated in images:
            made = np.clip(np.rint(generated * 255.0), 0, 255).astype(np.uint8)
            if made.shape[:2] != holes.shape:  # a pipeline that rounded the size its own way
                made = np.asarray(
                    cv2.resize(
                        made, (holes.shape[1], holes.shape[0]), interpolation=cv2.INTER_CUBIC
                    )
                )
            results.append(match_colours(made, pixels, holes) if colour_match else made)
        return results


def denoising_steps(steps: int, strength: float) -> int:
    """``num_inference_steps`` such that at least one step runs at this strength.

    Diffusers runs only the last ``int(steps * strength)`` of the schedule, and fails
    when that is 0 (strength 0.1 with 5 steps, say); the schedule is lengthened until
    one step runs. Strength 0 would change nothing at all, so it is refused.
    """
    if strength <= 0:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            "strength must be above 0 for diffusion engines (0 would leave the hole unfilled)",
            field="strength",
        )
    return max(steps, math.ceil(1 / strength - 1e-9))


def soft_mask(holes: Mask) -> np.ndarray:
    """The mask the pipeline gets: the hole, widened and blurred at its edge (255 = repaint)."""
    edge = max(2, max(holes.shape) // 64)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1))
    grown = cv2.dilate(holes.astype(np.uint8) * 255, kernel)
    blurred = cv2.GaussianBlur(grown, (0, 0), sigmaX=edge / 2)
    return np.maximum(np.asarray(blurred), holes.astype(np.uint8) * 255)


def _device_problem(settings: EngineSettings) -> str | None:
    if settings.diffusion_device != "auto":
        return None
    import torch

    if torch.cuda.is_available():
        return None
    return (
        "no CUDA GPU on this host (set CANVASFILL_DIFFUSION_DEVICE=cpu to run on the CPU, "
        "which takes minutes per image)"
    )


def _device(settings: EngineSettings) -> str:
    problem = _device_problem(settings)
    if problem:
        raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, problem)
    return "cuda" if settings.diffusion_device == "auto" else settings.diffusion_device


def _dtype(family: Family, device: str, precision: Precision) -> Any:
    import torch

    if precision is Precision.AUTO:
        precision = family.gpu_precision if device.startswith("cuda") else Precision.FP32
    return {
        Precision.FP16: torch.float16,
        Precision.BF16: torch.bfloat16,
        Precision.FP32: torch.float32,
    }[precision]


def _dtype_keyword() -> str:
    """``dtype`` where diffusers has renamed ``torch_dtype`` (it warns on the old name)."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"


def _load(family: Family, source: str, device: str, settings: EngineSettings) -> Any:
    import diffusers

    pipeline_class = getattr(diffusers, family.pipeline)
    precision = {_dtype_keyword(): _dtype(family, device, settings.diffusion_precision)}
    kind = _source_kind(source)
    try:
        if kind == "folder":
            pipe = pipeline_class.from_pretrained(
                str(Path(source).expanduser()), local_files_only=True, **precision
            )
        elif kind == "file":
            pipe = pipeline_class.from_single_file(str(Path(source).expanduser()), **precision)
        elif kind == "hub":
            pipe = pipeline_class.from_pretrained(source, **precision)
        else:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE, f"{family.env}={source}: no such file or folder"
            )
    except EngineError:
        raise
    except Exception as exc:  # diffusers and the hub raise many unrelated types
        hint = (
            f" Loading a hub id needs internet on this host; elsewhere, download it "
            f"(`huggingface-cli download {source} --local-dir DIR`) and set {family.env}=DIR."
            if kind == "hub"
            else ""
        )
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"cannot load {family.pipeline} from {source}: {exc}.{hint}",
        ) from exc
    if settings.diffusion_attention_slicing:
        pipe.enable_attention_slicing()
    if settings.diffusion_vae_tiling:
        pipe.vae.enable_tiling()
    if settings.diffusion_offload is Offload.MODEL:
        pipe.enable_model_cpu_offload(device=device)
    elif settings.diffusion_offload is Offload.SEQUENTIAL:
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


_ALL_BUT_NEGATIVE = frozenset(
    {Param.PROMPT, Param.STEPS, Param.STRENGTH, Param.GUIDANCE_SCALE, Param.SEED, Param.N}
)


@register
class SdInpaintEngine(DiffusionEngine):
    name = "sd-inpaint"
    summary = "Stable Diffusion 1.5 inpainting (diffusers): prompt-guided fill, 512 px, GPU"
    honours = _ALL_BUT_NEGATIVE | {Param.NEGATIVE_PROMPT}
    family = SD15
    expansion_rank = 100


@register
class SdxlInpaintEngine(DiffusionEngine):
    name = "sdxl-inpaint"
    summary = "Stable Diffusion XL inpainting (diffusers): prompt-guided fill, 1024 px, GPU"
    honours = _ALL_BUT_NEGATIVE | {Param.NEGATIVE_PROMPT}
    family = SDXL
    expansion_rank = 101


@register
class FluxFillEngine(DiffusionEngine):
    name = "flux-fill"
    summary = "FLUX.1 Fill (diffusers): prompt-guided fill, 1024 px, large GPU (no negative prompt)"
    honours = _ALL_BUT_NEGATIVE
    family = FLUX_FILL
    expansion_rank = 102
