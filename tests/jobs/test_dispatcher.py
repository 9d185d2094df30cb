"""The embedded dispatcher: worker processes, rebuilt after a crash; timeouts; leases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from service_testkit import png, service_settings, wait_until

from canvasfill.engines.base import Operation
from canvasfill.jobs.accept import accept
from canvasfill.jobs.dispatch.embedded import EmbeddedDispatcher
from canvasfill.jobs.runtime import Runtime, build_runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.sweeper import recover
from canvasfill.jobs.tables import Task
from canvasfill.pipeline.spec import JobSpec, PixelExpansion

pytestmark = pytest.mark.slow  # worker processes start (and warm up) in every test


def submit(runtime: Runtime, engine: str, prompt: str = "") -> Task:
    key = runtime.keys.create().record
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=PixelExpansion(right=8),
        seed=3,
        engine=engine,
        prompt=prompt,
    )
    task, _ = accept(runtime, key, Submission(spec=spec, image=png(32, 32)))
    return task


@contextmanager
def running(runtime: Runtime, workers: int = 1) -> Iterator[EmbeddedDispatcher]:
    finished: list[str] = []
    dispatcher = EmbeddedDispatcher(runtime, workers, on_finished=finished.append)
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        dispatcher.stop()


def status_of(runtime: Runtime, task_id: str, status: str) -> Task | None:
    task = runtime.tasks.get(task_id)
    return task if task is not None and task.status == status else None


def test_a_crashed_worker_is_replaced_and_its_task_rerun(tmp_path: Path) -> None:
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    marker = tmp_path / "crashed-once"
    task = submit(runtime, "crashy", prompt=str(marker))
    with running(runtime) as dispatcher:
        dispatcher.submit(task.id)
        done = wait_until(lambda: status_of(runtime, task.id, "succeeded"), timeout=60)
        assert marker.exists()
        assert dispatcher.rebuilds >= 1
        assert done.attempts == 2
        # the rebuilt pool goes on serving
        after = submit(runtime, "telea")
        dispatcher.submit(after.id)
        wait_until(lambda: status_of(runtime, after.id, "succeeded"), timeout=60)
    runtime.close()


def test_a_task_past_its_timeout_fails_and_frees_its_worker(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data", task_timeout_s=1.0)
    runtime = build_runtime(settings, apply_migrations=True)
    stuck = submit(runtime, "sleepy", prompt="30")
    with running(runtime) as dispatcher:
        dispatcher.submit(stuck.id)
        failed = wait_until(lambda: status_of(runtime, stuck.id, "failed"), timeout=30)
        assert failed.error_code == "timeout"
        assert "limit" in (failed.error_message or "")
        quick = submit(runtime, "telea")
        dispatcher.submit(quick.id)
        wait_until(lambda: status_of(runtime, quick.id, "succeeded"), timeout=60)
    runtime.close()


def test_queued_and_lapsed_tasks_are_found_and_run(tmp_path: Path) -> None:
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    queued = submit(runtime, "telea")
    abandoned = submit(runtime, "telea")
    claim = runtime.tasks.claim(abandoned.id, "gone:4242", 3, timedelta(seconds=-1))
    assert claim is not None
    with running(runtime) as dispatcher:  # nobody calls submit: the scan finds the queued one
        wait_until(lambda: status_of(runtime, queued.id, "succeeded"), timeout=60)
        held = runtime.tasks.get(abandoned.id)
        assert held is not None
        assert held.status == "running"  # start-up leaves running tasks alone
        recovery = recover(runtime, dispatcher.submit)  # the sweeper's pass: lease lapsed
        assert recovery.requeued == [abandoned.id]
        wait_until(lambda: status_of(runtime, abandoned.id, "succeeded"), timeout=60)
    finished = runtime.tasks.get(abandoned.id)
    assert finished is not None
    assert finished.attempts == 2
    runtime.close()


def test_a_graceful_stop_queues_its_running_task_again(tmp_path: Path) -> None:
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    task = submit(runtime, "sleepy", prompt="30")
    with running(runtime) as dispatcher:
        dispatcher.submit(task.id)
        wait_until(lambda: status_of(runtime, task.id, "running"), timeout=60)
    stopped = runtime.tasks.get(task.id)
    assert stopped is not None
    assert (stopped.status, stopped.worker, stopped.attempts) == ("queued", None, 1)
    runtime.close()


def test_the_workers_progress_reaches_this_process(tmp_path: Path) -> None:
    """A worker process announces that its task runs (and each progress write): the
    dispatcher's ``on_progress`` hears it here, while the task still runs."""
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    task = submit(runtime, "sleepy", prompt="1.5")
    heard: list[tuple[str, str]] = []

    def on_progress(task_id: str) -> None:
        current = runtime.tasks.get(task_id)
        heard.append((task_id, current.status if current is not None else "gone"))

    dispatcher = EmbeddedDispatcher(runtime, 1, on_progress=on_progress)
    dispatcher.start()
    try:
        dispatcher.submit(task.id)
        wait_until(lambda: (task.id, "running") in heard, timeout=60, interval=0.02)
        wait_until(lambda: status_of(runtime, task.id, "succeeded"), timeout=60)
    finally:
        dispatcher.stop()
    runtime.close()
    assert {task_id for task_id, _ in heard} == {task.id}


def test_a_workers_outcome_notice_and_the_pools_report_tell_the_end_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker sends its outcome notice once the outcome is in the store, and the
    pool reports the same end: ``on_finished`` hears of it once, with the outcome
    recorded (usually from the notices thread; the pool's report can win the race)."""
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    task = submit(runtime, "telea")
    told: list[tuple[str, str]] = []

    def on_finished(task_id: str) -> None:
        current = runtime.tasks.get(task_id)
        told.append((task_id, current.status if current else ""))

    dispatcher = EmbeddedDispatcher(runtime, 1, on_finished=on_finished)
    reports: list[tuple[str, str]] = []
    for name in ("_finished", "_outcome_notice"):
        original = getattr(dispatcher, name)

        def report(task_id: str, name: str = name, original: Any = original) -> None:
            reports.append((name, task_id))
            original(task_id)

        monkeypatch.setattr(dispatcher, name, report)
    # the inbox holds the bound method it was built with: route it through the spy
    monkeypatch.setattr(dispatcher._notices, "_on_outcome", dispatcher._outcome_notice)
    dispatcher.start()
    try:
        dispatcher.submit(task.id)
        wait_until(lambda: len(reports) == 2, timeout=60, interval=0.02)
    finally:
        dispatcher.stop()
    runtime.close()
    assert sorted(reports) == [("_finished", task.id), ("_outcome_notice", task.id)]
    assert told == [(task.id, "succeeded")]


def test_either_report_of_an_end_tells_it_and_the_other_does_not(tmp_path: Path) -> None:
    """Notice first or pool first, one end is told once; an end reported by one side
    only (a lost notice) is still told."""
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    told: list[str] = []
    dispatcher = EmbeddedDispatcher(runtime, 1, on_finished=told.append)
    dispatcher._outcome_notice("a")
    dispatcher._finished("a")
    dispatcher._finished("b")
    dispatcher._outcome_notice("b")
    dispatcher._finished("c")  # its notice was lost
    dispatcher._outcome_notice("d")
    dispatcher._finished("d")
    runtime.close()
    assert told == ["a", "b", "c", "d"]
