"""The diffusion engines: choosing, windowing, calling the pipeline, and registering.

How a fill runs: the hole gets a cheap first guess (``prefill``: nearest known colour,
smoothed), the canvas is cut into windows around the holes and each window is scaled
to the family's working size (long side 512 for SD 1.5, 1024 for SDXL and FLUX; width
and height multiples of 8, or 16 for FLUX); the mask's edge is widened and blurred so
the model repaints a seam band (:func:`soft_mask`); the pipeline runs with ``prompt``,
``negative_prompt`` (not FLUX Fill, which has none), ``num_inference_steps`` = steps,
``strength``, ``guidance_scale``, one seeded ``torch.Generator`` per image
(``FillParams.seed_for(i)``, created on the CPU so a seed means the same pixels on any
device) and ``num_images_per_prompt`` = n; each result's colours are matched to its
surroundings (``colour``), scaled back, and the core composites it so the known
pixels come back exactly.
"""

from __future__ import annotations

import math
import threading
from typing import Any, ClassVar

import cv2
import numpy as np

from canvasfill.engines.base import (
    RGB,
    Availability,
    Engine,
    FillParams,
    FillProgress,
    Hardware,
    Mask,
    Operation,
    Param,
    checkpoint,
)
from canvasfill.engines.colour import match_colours
from canvasfill.engines.diffusion.families import FLUX_FILL, SD15, SDXL, Family
from canvasfill.engines.diffusion.loading import device, load_pipeline, unavailable_reason
from canvasfill.engines.prefill import prefill
from canvasfill.engines.registry import register
from canvasfill.engines.settings import engine_settings
from canvasfill.engines.windows import WindowPolicy, plan_windows, run_windowed_many
from canvasfill.errors import EngineError, ErrorCode, InputError


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
    def model_source(self) -> str:
        """The weights settings name for this engine ("" when none): what it would load."""
        source: str = getattr(engine_settings(), self.family.setting)
        return source

    def availability(self) -> Availability:
        reason = unavailable_reason(self.family, engine_settings())
        return Availability(not reason, reason)

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
        where = device(settings)
        key = (
            source,
            where,
            settings.diffusion_precision,
            settings.diffusion_offload,
            settings.diffusion_attention_slicing,
            settings.diffusion_vae_tiling,
        )
        if self._pipe is None or self._pipe_key != key:
            self._pipe = None  # let the old one go before loading another
            self._pipe = load_pipeline(self.family, source, where, settings)
            self._pipe_key = key
        return self._pipe, where

    # -- filling --------------------------------------------------------------------
    def fill(
        self, image: RGB, mask: Mask, params: FillParams, progress: FillProgress | None = None
    ) -> list[RGB]:
        """Fill window by window; ``progress`` hears every denoising step (through the
        pipeline's ``callback_on_step_end``) and a stop request ends the fill there."""
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
        steps = _StepProgress(progress, len(plan_windows(mask, policy)))
        with self._lock:
            pipe, _device_name = self.pipeline()

            def infer(pixels: RGB, holes: Mask) -> list[RGB]:
                return self._generate(
                    pipe, pixels, holes, params, settings.diffusion_colour_match, steps
                )

            tick = None if progress is None else steps.window
            return run_windowed_many(start, mask, infer, policy, params.n, tick)

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
        self,
        pipe: Any,
        pixels: RGB,
        holes: Mask,
        params: FillParams,
        colour_match: bool,
        steps: _StepProgress,
    ) -> list[RGB]:
        import torch

        arguments = self.call_arguments(pixels, holes, params)
        if steps.progress is not None:
            arguments["callback_on_step_end"] = steps.on_step_end
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


class _StepProgress:
    """Progress through the windows of a fill and the denoising steps of each."""

    def __init__(self, progress: FillProgress | None, windows: int) -> None:
        self.progress = progress
        self._span = 1.0 / max(windows, 1)
        self._start = 0.0

    def window(self, fraction: float) -> None:
        """Between windows (``run_windowed_many``'s tick): report, and stop if asked."""
        self._start = fraction
        checkpoint(self.progress, fraction)

    def on_step_end(
        self, pipe: Any, step: int, _timestep: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """diffusers' ``callback_on_step_end``: the ``FillCanceledError`` it raises on a stop
        request leaves the pipeline call, so the fill ends after this step."""
        total = max(int(getattr(pipe, "num_timesteps", 0) or 0), step + 1)
        checkpoint(self.progress, self._start + self._span * (step + 1) / total)
        return kwargs


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
