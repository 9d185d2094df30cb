"""Queues by hardware: GPU engines' tasks go to ``gpu``, everything else to ``cpu``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canvasfill.engines import registry
from canvasfill.engines.base import (
    RGB,
    Availability,
    Engine,
    FillParams,
    Hardware,
    Mask,
    Operation,
)
from canvasfill.jobs.dispatch.celery_queue import queue_for, visibility_timeout
from canvasfill.jobs.dispatch.worker import run_worker, worker_argv
from canvasfill.jobs.runtime import Runtime
from canvasfill.pipeline.spec import JobSpec, PixelExpansion
from canvasfill.settings import Settings
from tests.jobs.conftest import create


class GpuOnly(Engine):
    name = "test-gpu-only"
    summary = "test engine that needs a GPU"
    hardware = Hardware.GPU

    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        return [image]


@pytest.fixture
def gpu_engine() -> Iterator[None]:
    registry.register(GpuOnly)
    try:
        yield
    finally:
        registry.unregister(GpuOnly.name)


@pytest.mark.usefixtures("gpu_engine")
def test_tasks_are_routed_by_the_hardware_their_engine_needs(sqlite_runtime: Runtime) -> None:
    key = sqlite_runtime.keys.create().record
    queues = {}
    for engine in ("telea", "test-gpu-only", "auto", "no-such-engine"):
        spec = JobSpec(
            operation=Operation.EXPAND, geometry=PixelExpansion(right=8), seed=1, engine=engine
        )
        task, _ = create(sqlite_runtime, key.id, spec)
        queues[engine] = queue_for(task)
    assert queues == {
        "telea": "cpu",
        "test-gpu-only": "gpu",
        "auto": "cpu",
        "no-such-engine": "cpu",
    }


def test_the_visibility_timeout_is_above_the_task_timeout() -> None:
    settings = Settings(task_timeout_s=600, broker_url="redis://127.0.0.1:6379/0")
    assert visibility_timeout(settings) > 600 + 30


def test_worker_arguments() -> None:
    argv = worker_argv(["cpu", "gpu"], 3, "INFO")
    assert argv[:5] == ["worker", "--queues", "cpu,gpu", "--concurrency", "3"]
    assert "--without-mingle" in argv
    with pytest.raises(ValueError, match="queues"):
        worker_argv(["tpu"], 1, "INFO")


def test_a_worker_needs_a_broker(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CANVASFILL_BROKER_URL"):
        run_worker(Settings(data_dir=tmp_path, broker_url=None), ["cpu"], 1)


class GpuWithoutWeights(GpuOnly):
    """A GPU engine this node cannot run (an API node has no weights and no GPU)."""

    name = "test-gpu-elsewhere"

    def availability(self) -> Availability:
        return Availability(False, "no weights on this node")


def test_a_gpu_engine_this_node_cannot_run_still_goes_to_the_gpu_queue(
    sqlite_runtime: Runtime,
) -> None:
    registry.register(GpuWithoutWeights)
    try:
        key = sqlite_runtime.keys.create().record
        spec = JobSpec(
            operation=Operation.EXPAND,
            geometry=PixelExpansion(right=8),
            seed=1,
            engine=GpuWithoutWeights.name,
        )
        task, _ = create(sqlite_runtime, key.id, spec)
        assert queue_for(task) == "gpu"
    finally:
        registry.unregister(GpuWithoutWeights.name)
