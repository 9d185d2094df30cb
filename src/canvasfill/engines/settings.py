"""Where learned engines find their weights and how they run.

Every setting is a ``CANVASFILL_*`` environment variable (``CANVASFILL_MODELS_DIR``) or
a key of the TOML config file (``models_dir = "..."``), read through the same sources
as the service's settings (:mod:`canvasfill.config`), so a server, a Celery worker and
the CLI on one host agree without passing flags around. The service's
:class:`canvasfill.settings.Settings` extends :class:`EngineSettings`: one set of
sources, one file, and engines still import nothing above them.

Engines read their settings through :func:`engine_settings`, afresh on each call: a
few environment look-ups and one small file, and tests (or an operator) can change
them without a restart of anything but the engines that already loaded a model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from canvasfill.config import CanvasfillSettings
from canvasfill.engines.setting_types import Offload, Precision, default_models_dir

__all__ = ["EngineSettings", "Offload", "Precision", "default_models_dir", "engine_settings"]


class EngineSettings(CanvasfillSettings):
    """Settings of the learned engines (ONNX and diffusion)."""

    default_engine: str = "auto"
    """The engine a request that names none (or ``auto``) runs on; ``auto`` picks the best
    available for each request. The server applies it at acceptance (and records the
    engine on the task); the CLI and the Python API when they choose the engine."""
    models_dir: Path = Field(default_factory=default_models_dir)
    """Where ``canvasfill models pull`` puts pinned model files (MI-GAN, LaMa)."""
    onnx_providers: str = ""
    """Comma-separated ONNX Runtime providers to use; empty: CUDA when present, else CPU."""

    sd_inpaint_model: str = ""
    """A local diffusers folder, a single ``.safetensors`` file, or a Hugging Face hub id."""
    sdxl_inpaint_model: str = ""
    flux_fill_model: str = ""

    diffusion_device: str = "auto"
    """``auto`` needs a CUDA GPU; ``cpu`` (or ``cuda:1``, ...) forces a device (CPU: very slow)."""
    diffusion_precision: Precision = Precision.AUTO
    diffusion_offload: Offload = Offload.NONE
    diffusion_long_side: int = Field(0, ge=0)
    """Working resolution's long side; 0: the model's own (SD 1.5: 512, SDXL and FLUX: 1024)."""
    diffusion_attention_slicing: bool = False
    diffusion_vae_tiling: bool = False
    diffusion_colour_match: bool = True
    """Shift the fill's colours to match its surroundings (VAE round trips drift)."""


def engine_settings() -> EngineSettings:
    """The engines' settings as they are now: environment over the TOML file."""
    return EngineSettings()
