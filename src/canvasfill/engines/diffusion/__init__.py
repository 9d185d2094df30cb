"""Diffusion engines: ``sd-inpaint``, ``sdxl-inpaint`` and ``flux-fill`` (diffusers).

Prompt-guided expansion and removal with the model families hosted services use.
They need the ``diffusion`` extra (``pip install 'canvasfill[diffusion]'``: torch,
diffusers, transformers, accelerate), a CUDA GPU (``CANVASFILL_DIFFUSION_DEVICE=cpu``
forces the CPU, which works and is very slow), and weights named in settings (the
environment or ``canvasfill.toml``):

- ``sd_inpaint_model``: e.g. a folder with a diffusers copy of
  ``stable-diffusion-v1-5/stable-diffusion-inpainting``;
- ``sdxl_inpaint_model``: e.g. ``diffusers/stable-diffusion-xl-1.0-inpainting-0.1``;
- ``flux_fill_model``: e.g. ``black-forest-labs/FLUX.1-Fill-dev``.

Each is a local diffusers folder, a single-file checkpoint (``.safetensors``), or a
Hugging Face hub id; a hub id downloads on first use, which only works where this
host has internet (and, for gated models, a token).

The package is split by idea, so each can be read (and changed) alone:

- :mod:`.families`: what differs between SD 1.5, SDXL and FLUX Fill (pipeline class,
  working size, defaults, precision) as plain data;
- :mod:`.loading`: where weights come from, which device and precision, offload, and
  turning all that into a loaded pipeline; the only code that touches diffusers'
  loaders;
- :mod:`.engine`: the engines themselves: availability, windowing, the call's
  arguments, colour matching, and the three ``@register``ed classes.

torch and diffusers are imported inside functions only, so discovering the engines
never pays for them; importing this package imports :mod:`.families` alone (the
engine classes load on first use of their names), so ``canvasfill engines`` can read
the families' settings without numpy and OpenCV (see ``engines/catalog.py``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from canvasfill.engines.diffusion.families import FLUX_FILL, SD15, SDXL, Family

if TYPE_CHECKING:
    from canvasfill.engines.diffusion.engine import (
        DiffusionEngine,
        FluxFillEngine,
        SdInpaintEngine,
        SdxlInpaintEngine,
        denoising_steps,
        soft_mask,
    )

_FROM_ENGINE = frozenset(
    {
        "DiffusionEngine",
        "FluxFillEngine",
        "SdInpaintEngine",
        "SdxlInpaintEngine",
        "denoising_steps",
        "soft_mask",
    }
)


def __getattr__(name: str) -> Any:
    """The engine module's names, imported when first asked for (PEP 562)."""
    if name in _FROM_ENGINE:
        return getattr(importlib.import_module("canvasfill.engines.diffusion.engine"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FLUX_FILL",
    "SD15",
    "SDXL",
    "DiffusionEngine",
    "Family",
    "FluxFillEngine",
    "SdInpaintEngine",
    "SdxlInpaintEngine",
    "denoising_steps",
    "soft_mask",
]
