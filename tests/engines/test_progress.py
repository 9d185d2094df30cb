"""Progress inside a fill, and stopping it: counted in calls, never timed.

``patch`` reports 0 first, then once per EM iteration of every searched pyramid level
and once per carried level, and 1 last; a True answer stops it at that call.
"""

from __future__ import annotations

import numpy as np
import pytest

from canvasfill.engines.base import FillParams, Operation, checkpoint, fill_with_progress
from canvasfill.engines.patch import PatchEngine
from canvasfill.engines.patchmatch.solver import SolverSettings, _pyramid, complete
from canvasfill.engines.windows import WindowPolicy, run_windowed
from canvasfill.errors import ErrorCode, FillCanceledError
from tests.engines.test_patch import centre_hole, textured


class Recorder:
    """A progress callback that records every fraction and asks to stop at call ``stop_at``."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.values: list[float] = []
        self.stop_at = stop_at

    def __call__(self, fraction: float) -> bool:
        self.values.append(fraction)
        return self.stop_at is not None and len(self.values) >= self.stop_at


def test_patch_reports_once_per_level_and_iteration_rising_from_0_to_1() -> None:
    image, hole = textured(200), centre_hole(200, 200, 70)
    settings = SolverSettings(em_iterations=2, coarse_extra=2)
    levels = len(_pyramid(image, hole, settings))
    assert levels >= 2
    recorder = Recorder()
    params = FillParams(seed=3, operation=Operation.REMOVE, steps=2)
    PatchEngine().fill(image, hole, params, progress=recorder)
    # start, coarsest level 2 + 2 iterations, each finer level 2, the end
    assert len(recorder.values) == 1 + 4 + 2 * (levels - 1) + 1
    assert recorder.values[0] == 0.0
    assert recorder.values[-1] == 1.0
    assert recorder.values == sorted(recorder.values)
    assert all(0.0 <= value <= 1.0 for value in recorder.values)


@pytest.mark.parametrize(("polish_rounds", "carried_ticks"), [(0, 1), (2, 2)])
def test_a_carried_level_reports_once_or_once_per_polish_round(
    polish_rounds: int, carried_ticks: int
) -> None:
    image, hole = textured(160), centre_hole(160, 160, 60)
    settings = SolverSettings(
        em_iterations=1, coarse_extra=1, work_side=100, min_side=80, polish_rounds=polish_rounds
    )
    assert len(_pyramid(image, hole, settings)) == 3  # 160, 80 and 40 px (a quarter)
    ticks: list[float] = []
    complete(image, hole, settings, seed=1, tick=ticks.append)
    # start, the 40 px level's 1 + 1 iterations, the 80 px level's 1, 160 px carried
    # (and polished), the end
    assert len(ticks) == 1 + 2 + 1 + carried_ticks + 1
    assert ticks == sorted(ticks)


def test_n_images_share_the_range_in_turn() -> None:
    image, hole = textured(80), centre_hole(80, 80, 25)
    recorder = Recorder()
    params = FillParams(seed=3, n=2, operation=Operation.EXPAND, steps=1)
    PatchEngine().fill(image, hole, params, progress=recorder)
    half = recorder.values.index(0.5)
    assert 0 < half < len(recorder.values) - 1
    assert recorder.values == sorted(recorder.values)
    assert recorder.values[-1] == 1.0


@pytest.mark.parametrize("stop_at", [1, 3])
def test_a_stop_request_ends_the_fill_at_that_call(stop_at: int) -> None:
    image, hole = textured(200), centre_hole(200, 200, 70)
    recorder = Recorder(stop_at=stop_at)
    params = FillParams(seed=3, operation=Operation.REMOVE, steps=2)
    with pytest.raises(FillCanceledError) as caught:
        PatchEngine().fill(image, hole, params, progress=recorder)
    assert caught.value.code is ErrorCode.CANCELED
    assert len(recorder.values) == stop_at, "no further step ran after the request"


def test_checkpoint_clamps_and_stops() -> None:
    seen: list[float] = []
    checkpoint(lambda fraction: seen.append(fraction) is not None, 1.5)
    assert seen == [1.0]
    with pytest.raises(FillCanceledError):
        checkpoint(lambda _fraction: True, 0.2)
    checkpoint(None, 0.5)  # no callback: nothing to do


def test_windows_report_between_windows_and_stop_before_the_next() -> None:
    image = np.zeros((400, 400, 3), dtype=np.uint8)
    mask = np.zeros((400, 400), dtype=bool)
    mask[10:20, 10:20] = True
    mask[380:390, 380:390] = True  # far apart: two windows
    policy = WindowPolicy(min_side=64, max_side=64)
    runs: list[int] = []

    def infer(pixels: np.ndarray, holes: np.ndarray) -> np.ndarray:
        runs.append(1)
        return pixels

    ticks: list[float] = []
    run_windowed(image, mask, infer, policy, ticks.append)
    assert (ticks, len(runs)) == ([0.0, 0.5, 1.0], 2)

    def stop_at_half(fraction: float) -> None:
        if fraction >= 0.5:
            raise FillCanceledError()

    runs.clear()
    with pytest.raises(FillCanceledError):
        run_windowed(image, mask, infer, policy, stop_at_half)
    assert len(runs) == 1


def test_an_engine_without_a_progress_parameter_still_runs() -> None:
    from canvasfill.engines.base import RGB, Engine, Mask

    class Old(Engine):
        name = "test-old-signature"
        summary = "written before progress existed"

        def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:  # type: ignore[override]
            return [image]

    image = np.zeros((8, 8, 3), dtype=np.uint8)
    result = fill_with_progress(Old(), image, np.ones((8, 8), bool), FillParams(seed=1), Recorder())
    assert result[0] is image
