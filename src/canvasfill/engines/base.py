"""The one interface every engine implements, and the parameters it receives.

An engine turns (canvas pixels, fill mask, parameters) into filled images. It knows
nothing of HTTP, tasks, storage or which dialect asked; the core composites its output
so known pixels stay exact, so an engine may return anything inside the mask.
"""

from __future__ import annotations

import inspect
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from canvasfill.errors import ErrorCode, FillCanceledError, InputError

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]

FillProgress = Callable[[float], bool]
"""What an engine calls as it works: the fraction of the fill done (0..1, never
decreasing). It returns True to ask the engine to stop, which the engine does at its
next step by raising :class:`~canvasfill.errors.FillCanceledError`: one callback carries
both ways, so no engine needs to know about tasks, events or a cancel flag."""

FillPreview = Callable[[int, RGB], None]
"""What an engine that can show its work calls with an intermediate picture: the index
of the image (0..n-1) and its current estimate of the whole canvas, at any scale of the
canvas's aspect (the patch engine's current pyramid level). The core composites it like
a result, small, and keeps what the task asked for; an engine offers one when its
estimate is worth a look (once per pyramid level), not at every step. Engines that take
it declare a ``preview`` keyword on ``fill``; the others are never asked."""

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
    DETECT = "detect"
    """An expansion's ``detect``: what was found is kept out of the fill's sources
    (:attr:`FillParams.keep_out`); only an engine that copies from the photo can."""


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
    keep_out: Mask | None = field(default=None, compare=False, repr=False)
    """Canvas pixels the fill must not copy from (an expansion's detected subject,
    dilated): an engine that copies patches from the photo takes none that touch them,
    so a person is not repeated in the new border. Others ignore it (``Param.DETECT``)."""

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
        if self.keep_out is not None:
            given.add(Param.DETECT)
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
    def fill(
        self, image: RGB, mask: Mask, params: FillParams, progress: FillProgress | None = None
    ) -> list[RGB]:
        """Return ``params.n`` images of ``image``'s shape with the masked pixels filled.

        ``progress``, when given, is called between steps of the work (pyramid levels
        and iterations, windows, denoising steps) with the fraction done; see
        :data:`FillProgress` and :func:`checkpoint`.
        """


def checkpoint(progress: FillProgress | None, fraction: float) -> None:
    """Report ``fraction`` (clamped to 0..1) and stop if asked: raises ``FillCanceledError``.

    Engines call it between steps, where stopping leaves nothing half written.
    """
    if progress is not None and progress(min(max(fraction, 0.0), 1.0)):
        raise FillCanceledError()


def scaled(progress: FillProgress | None, start: float, stop: float) -> FillProgress | None:
    """``progress`` for a part of the work that spans ``start``..``stop`` of the whole
    (image *i* of *n*, window *k* of a canvas): its 0..1 maps onto that span."""
    if progress is None:
        return None
    outer = progress
    return lambda fraction: outer(start + (stop - start) * fraction)


def fill_with_progress(
    engine: Engine,
    image: RGB,
    mask: Mask,
    params: FillParams,
    progress: FillProgress | None,
    preview: FillPreview | None = None,
) -> list[RGB]:
    """``engine.fill`` with ``progress`` and ``preview`` where the engine takes them.

    Engines written before progress existed (plugins, tests' fakes) override ``fill``
    with three parameters; they still run, reporting nothing between start and end.
    Only engines that can show their work take ``preview`` (see :data:`FillPreview`).
    """
    extra: dict[str, FillProgress | FillPreview] = {}
    if progress is not None and takes(type(engine), "progress"):
        extra["progress"] = progress
    if preview is not None and takes(type(engine), "preview"):
        extra["preview"] = preview
    return engine.fill(image, mask, params, **extra)  # type: ignore[arg-type]


def offers_previews(engine: Engine) -> bool:
    """Whether ``engine`` can show intermediate pictures (its ``fill`` takes ``preview``)."""
    return takes(type(engine), "preview")


@cache
def takes(kind: type[Engine], name: str) -> bool:
    """Whether ``kind.fill`` accepts the keyword ``name`` (``progress``, ``preview``)."""
    parameters = inspect.signature(kind.fill).parameters
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


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
