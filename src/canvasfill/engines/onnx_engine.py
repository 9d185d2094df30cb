"""What the ONNX inpainting engines (``migan``, ``lama``) share: weights, sessions, windows.

Each engine says which pinned model it runs, the signature its pre- and
post-processing assume, and how to turn one window into the network's tensors and
back (``infer``). Loading, the sha256 and signature checks, the session cache and
the crop/resize strategy are the same for both, and live here and in the modules
this one uses.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import partial
from typing import Any, ClassVar

from canvasfill.engines import models
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
from canvasfill.engines.onnx_session import Signature, session_for, unavailable_reason
from canvasfill.engines.windows import WindowPolicy, run_windowed


class OnnxInpaintEngine(Engine):
    """An inpainting network in a pinned ONNX file. Deterministic: a seed changes nothing."""

    honours: ClassVar[frozenset[Param]] = frozenset({Param.N})
    hardware: ClassVar[Hardware] = Hardware.CPU_OR_GPU
    model: ClassVar[str]
    signature: ClassVar[Signature]
    square: ClassVar[bool] = False
    removal_rank: ClassVar[int]
    expansion_rank: ClassVar[int]

    def availability(self) -> Availability:
        reason = unavailable_reason(self.model)
        return Availability(not reason, reason)

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        return self.removal_rank if operation is Operation.REMOVE else self.expansion_rank

    def policy(self) -> WindowPolicy:
        """Windowing from the model's pinned defaults (working size, context margin)."""
        defaults = models.get_model(self.model).defaults
        return WindowPolicy(
            min_side=int(defaults.get("min_side", 512)),
            max_side=int(defaults.get("max_side", 512)),
            margin=float(defaults.get("margin", 0.5)),
            square=self.square,
        )

    def fill(
        self, image: RGB, mask: Mask, params: FillParams, progress: FillProgress | None = None
    ) -> list[RGB]:
        """One network run per window (the ``n`` images are the same): progress and a
        stop request are taken between windows, which is as fine as a network allows."""
        session = session_for(self.model, self.signature)
        tick = None if progress is None else partial(checkpoint, progress)
        filled = run_windowed(
            image, mask, lambda px, holes: self.infer(session, px, holes), self.policy(), tick
        )
        return [filled.copy() for _ in range(params.n)]

    @abstractmethod
    def infer(self, session: Any, pixels: RGB, holes: Mask) -> RGB:
        """Run the network on one window at its working size."""
