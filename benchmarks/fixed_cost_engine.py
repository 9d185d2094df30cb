"""``fixed-cost``: an engine for ``benchmarks/api.py`` that waits ``float(prompt)`` s.

A sleep, not work: throughput then measures dispatch (how many tasks run at once),
not how many cores this machine has. Servers and workers import it through
``CANVASFILL_ENGINE_MODULES``.
"""

from __future__ import annotations

import time
from typing import ClassVar

from canvasfill.engines.base import RGB, Engine, FillParams, Mask, Param
from canvasfill.engines.registry import register


@register
class FixedCostEngine(Engine):
    name = "fixed-cost"
    summary = "benchmark engine: waits float(prompt) seconds, returns the canvas unchanged"
    honours: ClassVar[frozenset[Param]] = frozenset({Param.PROMPT, Param.N})

    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        time.sleep(float(params.prompt or 0))
        return [image.copy() for _ in range(params.n)]
