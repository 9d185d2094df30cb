"""The one interface every engine implements, and the parameters it receives.

An engine turns (canvas pixels, fill mask, parameters) into filled images. It knows
nothing of HTTP, tasks, storage or which dialect asked; the core composites its output
so known pixels stay exact, so an engine may return anything inside the mask.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from canvasfill.errors import ErrorCode, InputError

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]

SEED_MAX = 4_294_967_294
"""Largest seed any dialect accepts (Stability-style: 0..4294967294)."""


class Operation(StrEnum):
    EXPAND = "expand"
    REMOVE = "remove"


class Param(StrEnum):
    """The generation parameters a request can carry; engines declare which they honour."""

    PROMPT = "prompt"
    NEGATIVE_PROMPT = "negative_prompt"
    STEPS = "steps"
    STRENGTH = "strength"
    GUIDANCE_SCALE = "guidance_scale"
    SEED = "seed"
    N = "n"


class Hardware(StrEnum):
    CPU = "cpu"
    GPU = "gpu"
    CPU_OR_GPU = "cpu or gpu"


@dataclass(frozen=True)
class FillParams:
    """Parameters for one fill. ``seed`` is always concrete: see :func:`resolve_seed`."""

    seed: int
    operation: Operation = Operation.EXPAND
    n: int = 1
    prompt: str = ""
    negative_prompt: str = ""
    steps: int | None = None
    strength: float | None = None
    guidance_scale: float | None = None

    def given(self) -> frozenset[Param]:
        """The parameters the caller actually set (a seed and n are always set)."""
        optional = (
            Param.PROMPT,
            Param.NEGATIVE_PROMPT,
            Param.STEPS,
            Param.STRENGTH,
            Param.GUIDANCE_SCALE,
        )
        given = {param for param in optional if getattr(self, param.value) not in (None, "")}
        return frozenset({Param.SEED, Param.N, *given})

    def seed_for(self, index: int) -> int:
        """Seed of the ``index``-th image of a request: consecutive, wrapping at SEED_MAX."""
        return (self.seed + index) % (SEED_MAX + 1)


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""


class Engine(ABC):
    """Base of all engines. Subclasses set the class attributes and implement ``fill``."""

    name: ClassVar[str]
    summary: ClassVar[str]
    honours: ClassVar[frozenset[Param]] = frozenset()
    hardware: ClassVar[Hardware] = Hardware.CPU
    weights: ClassVar[tuple[str, ...]] = ()
    """Model names (see ``canvasfill models``) this engine needs on disk."""
    feather: ClassVar[int] = 3
    """Seam width in pixels the core blends over when compositing this engine's fill."""

    def availability(self) -> Availability:
        """Whether this host can run the engine now, and if not, what to do about it."""
        return Availability(True)

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        """Rank for automatic choice (higher wins); None when unsuited to this request."""
        return None

    def honoured(self, operation: Operation) -> frozenset[Param]:
        """The parameters that change this operation's result; the rest are reported ignored.

        ``honours`` by default; an engine that reads a parameter for one operation only
        narrows it here, so a task never claims a parameter did something it did not.
        """
        return self.honours

    def warm_up(self) -> None:
        """Pay one-time costs (JIT compiles) now, so no caller's first request pays them.

        Worker processes call it at start for every available engine; the default does
        nothing. Loading weights is not a warm-up: that stays lazy, on first use.
        """
        return None

    @abstractmethod
    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        """Return ``params.n`` images of ``image``'s shape with the masked pixels filled."""


def draw_seed() -> int:
    """A fresh random seed in 1..SEED_MAX (never 0, which some dialects read as random)."""
    return 1 + secrets.randbelow(SEED_MAX)


def resolve_seed(seed: int | None, random_values: frozenset[int] = frozenset({-1})) -> int:
    """The seed to use: ``seed`` itself, or a fresh one when absent or a 'random' value.

    Dialects differ: AILab and PicWish say -1 is random, Stability says 0 or absent.
    """
    if seed is None or seed in random_values:
        return draw_seed()
    if not 0 <= seed <= SEED_MAX:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"seed must be between 0 and {SEED_MAX} (or a random marker); got {seed}",
            field="seed",
        )
    return seed


def rng_for(seed: int) -> np.random.Generator:
    """The one way engines turn a seed into randomness, so seeds mean the same everywhere."""
    return np.random.default_rng(seed)
