"""The built-in engines declared as data: what each is, where it lives, whether it runs here.

``canvasfill engines`` must answer at once (a newcomer's first command), but the engine
modules import numpy and OpenCV (0.3 s and more) to define their classes. The listing
reads these declarations instead: names, summaries, hardware, weights and honoured
parameters as plain values, and each engine's availability from the same light
function its class asks (:func:`~canvasfill.engines.onnx_session.unavailable_reason`,
:func:`~canvasfill.engines.diffusion.loading.unavailable_reason`). The registry imports
the modules named here to run them. A test holds every declaration equal to its
registered class (``tests/engines/test_catalog.py``), so the two cannot drift apart.

This module imports no engine module, numpy or OpenCV, and no pydantic: it reads the
settings it shows through :func:`~canvasfill.config_sources.setting_value`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from canvasfill.config_sources import setting_value
from canvasfill.engines.diffusion.families import FLUX_FILL, SD15, SDXL, Family

ENTRY_POINT_GROUP = "canvasfill.engines"
"""Where third-party packages declare their engines (the registry loads them)."""


def _runs_everywhere() -> str:
    return ""


def _onnx(model: str) -> str:
    from canvasfill.engines.onnx_session import unavailable_reason

    return unavailable_reason(model)


def _diffusion(family: Family) -> str:
    from canvasfill.engines.diffusion.loading import setup_problem, unavailable_reason

    problem = setup_problem(family, setting_value(family.setting) or "")
    if problem is not None:
        return problem
    # weights are set: the device check imports torch, beside which the settings cost nothing
    from canvasfill.engines.settings import engine_settings

    return unavailable_reason(family, engine_settings())


@dataclass(frozen=True)
class Declared:
    """One built-in engine as ``canvasfill engines`` shows it (the class's attributes)."""

    name: str
    module: str
    """The module whose import registers the engine's class."""
    summary: str
    hardware: str
    honours: frozenset[str]
    weights: tuple[str, ...] = ()
    family: Family | None = None
    """Diffusion engines: the family, whose setting names the model it would load."""
    probe: Callable[[], str] = field(default=_runs_everywhere, compare=False)
    """Why the engine cannot run here, "" when it can (cheap: no engine module)."""

    def unavailable(self) -> str:
        return self.probe()

    def model_setting(self) -> tuple[str, str] | None:
        """A diffusion engine's weights setting: (its environment variable, its value)."""
        if self.family is None:
            return None
        return self.family.env, setting_value(self.family.setting) or ""


_DIFFUSION_HONOURS = frozenset({"prompt", "steps", "strength", "guidance_scale", "seed", "n"})
_DIFFUSION = "canvasfill.engines.diffusion.engine"

BUILT_IN: tuple[Declared, ...] = (
    Declared(
        name="flux-fill",
        module=_DIFFUSION,
        summary="FLUX.1 Fill (diffusers): prompt-guided fill, 1024 px, large GPU "
        "(no negative prompt)",
        hardware="gpu",
        honours=_DIFFUSION_HONOURS,
        family=FLUX_FILL,
        probe=partial(_diffusion, FLUX_FILL),
    ),
    Declared(
        name="lama",
        module="canvasfill.engines.lama",
        summary="big LaMa on ONNX Runtime: learned object removal, best on large holes (208 MB)",
        hardware="cpu or gpu",
        honours=frozenset({"n"}),
        weights=("lama",),
        probe=partial(_onnx, "lama"),
    ),
    Declared(
        name="migan",
        module="canvasfill.engines.migan",
        summary="MI-GAN on ONNX Runtime: fast learned object removal (28 MB of weights)",
        hardware="cpu or gpu",
        honours=frozenset({"n"}),
        weights=("migan",),
        probe=partial(_onnx, "migan"),
    ),
    Declared(
        name="ns",
        module="canvasfill.engines.opencv",
        summary="OpenCV Navier-Stokes diffusion: thin scratches, small holes",
        hardware="cpu",
        honours=frozenset({"n"}),
    ),
    Declared(
        name="patch",
        module="canvasfill.engines.patch",
        summary="multi-scale PatchMatch completion (Wexler et al.): sharp fills, no weights, CPU",
        hardware="cpu",
        honours=frozenset({"seed", "n", "steps", "strength", "detect"}),
    ),
    Declared(
        name="sd-inpaint",
        module=_DIFFUSION,
        summary="Stable Diffusion 1.5 inpainting (diffusers): prompt-guided fill, 512 px, GPU",
        hardware="gpu",
        honours=_DIFFUSION_HONOURS | {"negative_prompt"},
        family=SD15,
        probe=partial(_diffusion, SD15),
    ),
    Declared(
        name="sdxl-inpaint",
        module=_DIFFUSION,
        summary="Stable Diffusion XL inpainting (diffusers): prompt-guided fill, 1024 px, GPU",
        hardware="gpu",
        honours=_DIFFUSION_HONOURS | {"negative_prompt"},
        family=SDXL,
        probe=partial(_diffusion, SDXL),
    ),
    Declared(
        name="telea",
        module="canvasfill.engines.opencv",
        summary="OpenCV fast-marching diffusion (Telea 2004): thin scratches, small holes",
        hardware="cpu",
        honours=frozenset({"n"}),
    ),
)
"""Every engine this package defines, by name."""


def declared_modules() -> list[str]:
    """The modules to import so that every built-in engine is registered (in order)."""
    return list(dict.fromkeys(declared.module for declared in BUILT_IN))
