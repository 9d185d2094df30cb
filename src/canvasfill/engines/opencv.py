"""OpenCV's diffusion fills, ``telea`` and ``ns``: fast, weightless, and the floor to beat.

Both propagate colour inward from the hole's border (Telea 2004 by fast marching;
Navier-Stokes by fluid transport). They are good on thin scratches and blur on large
holes. They are deterministic, so every one of ``n`` images is the same.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from canvasfill.engines.base import (
    RGB,
    Engine,
    FillParams,
    FillProgress,
    Mask,
    Operation,
    Param,
    checkpoint,
)
from canvasfill.engines.registry import register

_INPAINT_RADIUS = 5


class _OpenCVInpaint(Engine):
    honours: ClassVar[frozenset[Param]] = frozenset({Param.N})
    flag: ClassVar[int]
    removal_rank: ClassVar[int]

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        return self.removal_rank if operation is Operation.REMOVE else self.removal_rank - 5

    def fill(
        self, image: RGB, mask: Mask, params: FillParams, progress: FillProgress | None = None
    ) -> list[RGB]:
        checkpoint(progress, 0.0)  # one step, too short to stop in the middle of
        holes = mask.astype(np.uint8) * 255
        filled = np.asarray(cv2.inpaint(image, holes, _INPAINT_RADIUS, self.flag), dtype=np.uint8)
        checkpoint(progress, 1.0)
        return [filled.copy() for _ in range(params.n)]


@register
class TeleaEngine(_OpenCVInpaint):
    name = "telea"
    summary = "OpenCV fast-marching diffusion (Telea 2004): thin scratches, small holes"
    flag = cv2.INPAINT_TELEA
    removal_rank = 20


@register
class NavierStokesEngine(_OpenCVInpaint):
    name = "ns"
    summary = "OpenCV Navier-Stokes diffusion: thin scratches, small holes"
    flag = cv2.INPAINT_NS
    removal_rank = 19
