"""The engine is chosen once, at acceptance: the task stores a real name, and its queue
and its worker use that name without choosing again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from service_testkit import png

from canvasfill.engines import registry
from canvasfill.engines.base import RGB, Engine, FillParams, Mask, Operation
from canvasfill.engines.registry import AUTO, choose_engine
from canvasfill.jobs.accept import accept
from canvasfill.jobs.execute import execute
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.spec import Box, BoxRemoval, JobSpec


class Eager(Engine):
    """Ranks above every built-in engine for any request (registered after acceptance)."""

    name = "test-eager"
    summary = "test engine: auto's first choice once registered"

    def preference(self, operation: Operation, params: FillParams) -> int | None:
        return 1_000_000

    def fill(self, image: RGB, mask: Mask, params: FillParams) -> list[RGB]:
        return [image.copy() for _ in range(params.n)]


@pytest.fixture
def later_engine() -> Iterator[None]:
    """Registers ``Eager`` when the test calls it; removed afterwards in any case."""
    try:
        yield
    finally:
        registry.unregister(Eager.name)


def removal(engine: str) -> JobSpec:
    return JobSpec(
        operation=Operation.REMOVE,
        geometry=BoxRemoval(boxes=(Box(x=4, y=4, width=8, height=8),)),
        seed=3,
        engine=engine,
    )


def with_default(runtime: Runtime, default: str) -> Runtime:
    settings = runtime.settings.model_copy(update={"default_engine": default})
    return replace(runtime, settings=settings)


@pytest.mark.parametrize("asked", [AUTO, ""])
def test_auto_is_stored_as_the_engine_it_resolves_to(sqlite_runtime: Runtime, asked: str) -> None:
    runtime = with_default(sqlite_runtime, AUTO)
    key = runtime.keys.create().record
    spec = removal(asked)
    expected = choose_engine(AUTO, spec.operation, spec.fill_params(), default=AUTO).name
    task, _ = accept(runtime, key, Submission(spec=spec, image=png(40, 30)))
    assert expected != AUTO
    assert (task.engine, task.spec["engine"]) == (expected, expected)
    stored = runtime.tasks.get(task.id)
    assert stored is not None
    assert (stored.status, stored.engine, stored.spec["engine"]) == ("queued", expected, expected)


def test_the_operators_default_comes_from_the_runtimes_settings(
    sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings are read once and passed down: the environment of the moment (which
    ``engine_settings()`` would read afresh) does not decide an accepted task's engine."""
    monkeypatch.setenv("CANVASFILL_DEFAULT_ENGINE", "ns")
    key = sqlite_runtime.keys.create().record
    spec = removal(AUTO)
    ranked = choose_engine(AUTO, spec.operation, spec.fill_params(), default=AUTO).name
    assert ranked != "ns"
    task, _ = accept(with_default(sqlite_runtime, AUTO), key, Submission(spec=spec, image=png()))
    assert task.engine == ranked
    task, _ = accept(with_default(sqlite_runtime, "telea"), key, Submission(spec=spec, image=png()))
    assert task.engine == "telea"


@pytest.mark.usefixtures("later_engine")
def test_the_worker_runs_the_engine_the_task_names(sqlite_runtime: Runtime) -> None:
    """An engine that would win ``auto`` now, registered after acceptance, is not used."""
    runtime = with_default(sqlite_runtime, AUTO)
    key = runtime.keys.create().record
    task, _ = accept(runtime, key, Submission(spec=removal(AUTO), image=png(40, 30)))
    accepted = task.engine
    registry.register(Eager)
    spec = removal(AUTO)
    assert choose_engine(AUTO, spec.operation, spec.fill_params(), default=AUTO).name == Eager.name
    execute(task.id, runtime)
    done = runtime.tasks.get(task.id)
    assert done is not None
    assert (done.status, done.engine) == ("succeeded", accepted)
