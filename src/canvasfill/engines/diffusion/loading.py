"""Loading a diffusion pipeline: where the weights are, which device, precision, offload.

Weights come from a local diffusers folder, a single-file checkpoint or a hub id
(:func:`source_kind`); the device is a CUDA GPU unless settings force one
(:func:`device_problem` says why it cannot run here); precision follows the family on
a GPU and is fp32 on a CPU (:func:`dtype_for`). :func:`load_pipeline` is the only
place that calls diffusers' loaders, and turns their many exception types into one
``engine_unavailable`` error that says what to do.
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canvasfill.engines.diffusion.families import Family
from canvasfill.engines.setting_types import Offload, Precision
from canvasfill.errors import EngineError, ErrorCode

if TYPE_CHECKING:  # the class imports pydantic-settings; `canvasfill engines` imports this
    from canvasfill.engines.settings import EngineSettings

EXTRA_MODULES = ("torch", "diffusers", "transformers", "accelerate")
INSTALL_HINT = "pip install 'canvasfill[diffusion]'"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def missing_extras() -> list[str]:
    """The diffusion extra's modules that are not installed (found without importing)."""
    return [name for name in EXTRA_MODULES if find_spec(name) is None]


def source_kind(source: str) -> str:
    """``folder``, ``file``, ``hub`` (a hub id) or ``missing``."""
    path = Path(source).expanduser()
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "file"
    if _HUB_ID.fullmatch(source) and not source.startswith((".", "~")):
        return "hub"
    return "missing"


def device_problem(settings: EngineSettings) -> str | None:
    """Why the configured device cannot run here, or None when it can."""
    if settings.diffusion_device != "auto":
        return None
    import torch

    if torch.cuda.is_available():
        return None
    return (
        "no CUDA GPU on this host (set CANVASFILL_DIFFUSION_DEVICE=cpu to run on the CPU, "
        "which takes minutes per image)"
    )


def unavailable_reason(family: Family, settings: EngineSettings) -> str:
    """Why an engine of ``family`` cannot run here ("" when it can): the extra, the
    weights setting, the weights themselves, the device. The engines' ``availability``
    and ``canvasfill engines`` (which lists them without importing the engines) both
    ask this."""
    problem = setup_problem(family, getattr(settings, family.setting))
    return problem or device_problem(settings) or ""


def setup_problem(family: Family, source: str) -> str | None:
    """What the extra or the weights setting ``source`` lacks, or None: the part of
    :func:`unavailable_reason` told without torch or the settings class (pydantic), so
    ``canvasfill engines`` asks for the device (and the settings) only when this passes."""
    missing = missing_extras()
    if missing:
        return f"the diffusion extra is not installed ({', '.join(missing)}): {INSTALL_HINT}"
    if not source:
        return (
            f"no weights: set {family.env} (or {family.setting} in canvasfill.toml) to a "
            f"local folder, or a hub id such as {family.example} (needs internet)"
        )
    if source_kind(source) == "missing":
        return f"{family.env}={source}: no such file or folder"
    return None


def device(settings: EngineSettings) -> str:
    """The torch device to run on; ``engine_unavailable`` when there is none."""
    problem = device_problem(settings)
    if problem:
        raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, problem)
    return "cuda" if settings.diffusion_device == "auto" else settings.diffusion_device


def dtype_for(family: Family, device: str, precision: Precision) -> Any:
    """The torch dtype: the family's preference on a GPU, fp32 on a CPU, unless forced."""
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


def load_pipeline(family: Family, source: str, device: str, settings: EngineSettings) -> Any:
    """A ready pipeline of ``family`` from ``source`` on ``device``, as settings ask."""
    import diffusers

    pipeline_class = getattr(diffusers, family.pipeline)
    precision = {_dtype_keyword(): dtype_for(family, device, settings.diffusion_precision)}
    kind = source_kind(source)
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
    _place(pipe, device, settings)
    return pipe


def _place(pipe: Any, device: str, settings: EngineSettings) -> None:
    """Memory savers, then the device (whole, or offloaded model by model or layer by layer)."""
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
