"""The engines' settings' value types and defaults, without pydantic.

:class:`~canvasfill.engines.settings.EngineSettings` declares its fields with these;
the diffusion families and the model cache use them too, and ``canvasfill engines``
imports those without the settings class (pydantic-settings is most of its start-up).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


def default_models_dir() -> Path:
    return Path.home() / ".cache" / "canvasfill" / "models"


class Offload(StrEnum):
    """How much of a diffusion pipeline lives on the GPU between uses."""

    NONE = "none"
    MODEL = "model"
    """Whole sub-models move to the GPU when used: a little slower, much less memory."""
    SEQUENTIAL = "sequential"
    """Layer by layer: the least memory, and slow."""


class Precision(StrEnum):
    AUTO = "auto"
    """The model's own preference on a GPU (fp16 for SD, bf16 for FLUX), fp32 on a CPU."""
    FP16 = "fp16"
    BF16 = "bf16"
    FP32 = "fp32"
