"""The ``patch`` engine: the default fill, sharp and weightless, on any CPU.

Multi-scale example-based completion (Wexler et al.) with PatchMatch search (Barnes
et al. 2009), compiled with numba; see ``patchmatch/solver.py`` for the method.

``steps`` sets the amount of EM work: each pyramid level up to the working resolution
runs ``steps`` EM iterations (search + vote), and the coarsest level, where the layout
of the fill is decided, runs ``steps`` more. The default is :data:`DEFAULT_STEPS`; the
value is clamped to 1..:data:`MAX_STEPS`. More steps cost time roughly in proportion
and rarely change much past the default.

A removal's ``strength`` (0..1) is the share of the fill's texture kept everywhere.
Absent, it is :data:`DEFAULT_STRENGTH` (1): the sharp example-based fill, which is
what people expect of a removal; its structure (not its texture) near the border is
still handed to a diffusion, which continues the photo's shapes more faithfully there
(``patchmatch/hedge.py``). Below 1 the fill is hedged as well: texture is kept where
the photo predicts it and the rest fades toward a smooth consensus, which scores
higher on PSNR/SSIM deep in a large hole of random texture (a guessed texture's
random phase is further from what was there than none) and looks like a smear.
Expansion always gets the raw fill: past the photo's edge there is nothing to
interpolate (nor is its carried field polished: ``SolverSettings.polish_rounds``).

A fill's ``progress`` callback hears 0 first, then the fraction done after every EM
iteration and every carried pyramid level (weighted by the hole pixels each works on),
then 1; image ``i`` of ``n`` spans ``i/n..(i+1)/n``. A stop request is honoured at the
next of those calls. A ``preview`` callback, when given, sees image ``i``'s solution
after each searched pyramid level but the finest (coarse, at that level's size): what
the stream of a task that asked for previews shows while the fill runs.

Image ``i`` of ``n`` uses ``params.seed_for(i)``, so a seed reproduces every image and
different images differ. Prompts and guidance mean nothing to an example-based fill;
they are accepted, and the pipeline reports them as ignored (see ``honours``).

numba compiles the kernels on first use (tens of seconds) and caches the machine code
on disk beside the package (``cache=True``); :func:`warm_up` runs every kernel once
on a tiny image so a server pays that cost at start-up, not on a user's request.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from canvasfill.engines.base import (
    RGB,
    Engine,
    FillParams,
    FillPreview,
    FillProgress,
    Mask,
    Operation,
    Param,
    checkpoint,
    scaled,
)
from canvasfill.engines.registry import register

if TYPE_CHECKING:  # the solver imports numba: loaded on first fill, not at discovery
    from canvasfill.engines.patchmatch.solver import SolverSettings

DEFAULT_STEPS = 4
DEFAULT_STRENGTH = 1.0
"""A removal without a ``strength`` keeps all of its texture: the smooth hedge is asked for."""
MAX_STEPS = 20
_RANK = 50


def hedges(operation: Operation) -> bool:
    """Whether ``strength`` shapes this operation: a removal is hedged, an expansion never."""
    return operation is Operation.REMOVE


def settings_for(
    steps: int | None, strength: float | None = None, operation: Operation = Operation.REMOVE
) -> SolverSettings:
    """Solver settings for a request (see the module docstring for the mapping)."""
    from canvasfill.engines.patchmatch.hedge import Hedge
    from canvasfill.engines.patchmatch.solver import SolverSettings

    effort = DEFAULT_STEPS if steps is None else min(max(steps, 1), MAX_STEPS)
    texture = DEFAULT_STRENGTH if strength is None else min(max(strength, 0.0), 1.0)
    removal = hedges(operation)
    hedge = Hedge(floor=texture) if removal else None
    # the polish moved expansions' medians the wrong way on the issue's goals
    # (sharpness -0.01 to -0.03, flat blocks up to +1 point, blurred SSIM the same)
    polish = SolverSettings.polish_rounds if removal else 0
    return SolverSettings(
        em_iterations=effort, coarse_extra=effort, hedge=hedge, polish_rounds=polish
    )


@register
class PatchEngine(Engine):
    name = "patch"
    summary = "multi-scale PatchMatch completion (Wexler et al.): sharp fills, no weights, CPU"
    honours: ClassVar[frozenset[Param]] = frozenset(
        {Param.SEED, Param.N, Param.STEPS, Param.STRENGTH, Param.DETECT}
    )
    feather: ClassVar[int] = 2

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        return _RANK

    def honoured(self, operation: Operation) -> frozenset[Param]:
        """A removal's strength; an expansion's kept-out subject (``detect``)."""
        if hedges(operation):
            return self.honours - {Param.DETECT}
        return self.honours - {Param.STRENGTH}

    def fill(
        self,
        image: RGB,
        mask: Mask,
        params: FillParams,
        progress: FillProgress | None = None,
        *,
        preview: FillPreview | None = None,
    ) -> list[RGB]:
        from canvasfill.engines.patchmatch.solver import complete

        settings = settings_for(params.steps, params.strength, params.operation)
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        hole = np.ascontiguousarray(mask, dtype=bool)
        keep_out = None
        if params.keep_out is not None:
            keep_out = np.ascontiguousarray(params.keep_out, dtype=bool)
        results = []
        for i in range(params.n):
            # image i of n spans i/n..(i+1)/n of the bar; the solver ticks within it
            part = scaled(progress, i / params.n, (i + 1) / params.n)
            tick = None if part is None else partial(checkpoint, part)
            seed = params.seed_for(i)
            sketch = None if preview is None else partial(preview, i)
            results.append(complete(pixels, hole, settings, seed, tick, sketch, keep_out=keep_out))
        return results

    def warm_up(self) -> None:
        warm_up()


def warm_up() -> None:
    """Compile (or load from numba's disk cache) every kernel, on a tiny image."""
    from canvasfill.engines.patchmatch.solver import SolverSettings, complete

    side = 64
    yy, xx = np.mgrid[:side, :side]
    image = np.stack([(xx * 4) % 256, (yy * 4) % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
    hole = np.zeros((side, side), dtype=bool)
    hole[24:40, 24:40] = True
    # the full size is above work_side, so the carried path (and its uint8 vote) compiles
    # too: unpolished, as a level above polish_side is, once polished
    for polish_rounds in (0, SolverSettings.polish_rounds):
        settings = SolverSettings(work_side=side // 2, min_side=16, polish_rounds=polish_rounds)
        complete(image, hole, settings, seed=0)
