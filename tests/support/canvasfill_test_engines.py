"""Engines that exist only for the service's tests, registered through the real registry.

Worker processes import this module because the tests' settings name it in
``engine_modules`` (and put ``tests/support`` on the path).

- ``sleepy``: waits ``float(prompt)`` seconds (default 3), then returns the canvas as it is.
  Its warm-up waits ``CANVASFILL_TEST_WARM_UP_S`` seconds (default 0): a slow first start.
- ``steppy``: like ``sleepy`` (default 3 s), in 0.05 s steps, reporting its progress and
  stopping when asked (``checkpoint``) between steps.
- ``crashy``: kills its worker process the first time per marker file (its prompt), then
  behaves like ``sleepy`` with no wait.
- ``sketchy``: shows its work: in ``SKETCHES`` steps over ``float(prompt)`` seconds
  (default 1.2) it offers a preview after each (the hole a flat grey of 40 * (k + 1), at
  half the canvas's size), then fills the hole with 250. The prompt ``fail`` fails it
  after the first preview.

With ``CANVASFILL_TEST_DETECTORS`` set, a worker process (spawned: it has not the
test's monkeypatched pins) re-pins the detectors to the files in its models folder,
the tests' tiny graphs, so detection runs on the workers as it does in the test.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from canvasfill.engines import models
from canvasfill.engines.base import (
    RGB,
    Engine,
    FillParams,
    FillPreview,
    FillProgress,
    Mask,
    Param,
    checkpoint,
)
from canvasfill.engines.registry import register

WARM_UP_S = "CANVASFILL_TEST_WARM_UP_S"
DETECTORS = "CANVASFILL_TEST_DETECTORS"


def _pin_test_detectors() -> None:
    """In a worker process only (the test process pins with monkeypatch, undone after)."""
    if not os.environ.get(DETECTORS) or multiprocessing.parent_process() is None:
        return
    for name in ("u2netp", "ppocr-det"):
        path = models.model_path(name)
        if path.exists():
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            models.MODELS[name] = replace(models.MODELS[name], sha256=digest, size=len(data))


_pin_test_detectors()


@register
class SleepyEngine(Engine):
    name = "sleepy"
    summary = "test engine: sleeps, then returns the canvas unchanged"
    honours: ClassVar[frozenset[Param]] = frozenset({Param.PROMPT, Param.N})

    def warm_up(self) -> None:
        time.sleep(float(os.environ.get(WARM_UP_S, "0")))

    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        try:
            seconds = float(params.prompt)
        except ValueError:
            seconds = 3.0
        time.sleep(seconds)
        return [image.copy() for _ in range(params.n)]


@register
class SteppyEngine(Engine):
    name = "steppy"
    summary = "test engine: sleeps in small steps, reporting progress and stopping when asked"
    honours: ClassVar[frozenset[Param]] = frozenset({Param.PROMPT, Param.N})
    STEP_S = 0.05

    def fill(
        self, image: RGB, mask: Mask, params: FillParams, progress: FillProgress | None = None
    ) -> list[RGB]:
        try:
            seconds = float(params.prompt)
        except ValueError:
            seconds = 3.0
        steps = max(1, round(seconds / self.STEP_S))
        for step in range(steps):
            checkpoint(progress, step / steps)
            time.sleep(self.STEP_S)
        checkpoint(progress, 1.0)
        return [image.copy() for _ in range(params.n)]


@register
class CrashyEngine(Engine):
    name = "crashy"
    summary = "test engine: kills its worker once (per marker file), then succeeds"
    honours: ClassVar[frozenset[Param]] = frozenset({Param.PROMPT, Param.N})

    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        marker = Path(params.prompt)
        if not marker.exists():
            marker.write_text("crashed once")
            os._exit(17)  # what a segfault in native code looks like to the pool
        return [image.copy() for _ in range(params.n)]


@register
class SketchyEngine(Engine):
    name = "sketchy"
    summary = "test engine: offers a preview after each of a few timed steps"
    honours: ClassVar[frozenset[Param]] = frozenset({Param.PROMPT, Param.N})
    SKETCHES = 4

    def fill(
        self,
        image: RGB,
        mask: Mask,
        params: FillParams,
        progress: FillProgress | None = None,
        *,
        preview: FillPreview | None = None,
    ) -> list[RGB]:
        failing = params.prompt == "fail"
        try:
            seconds = float(params.prompt)
        except ValueError:
            seconds = 1.2
        for step in range(self.SKETCHES):
            checkpoint(progress, step / self.SKETCHES)
            time.sleep(seconds / self.SKETCHES)
            if preview is not None:
                sketch = image[::2, ::2].copy()
                sketch[mask[::2, ::2]] = 40 * (step + 1)
                preview(0, sketch)
            if failing:
                raise RuntimeError("sketchy was asked to fail")
        checkpoint(progress, 1.0)
        filled = image.copy()
        filled[mask] = 250
        return [filled.copy() for _ in range(params.n)]
