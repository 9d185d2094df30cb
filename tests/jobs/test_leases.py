"""Leases on an injected clock: renewed while held, lapsed ones queued again, then failed;
only a worker that ran a task past its timeout makes it fail as ``timeout``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from canvasfill.engines.base import Operation
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.sweeper import recover
from canvasfill.jobs.tasks import ResultBlob, TaskStore
from canvasfill.pipeline.spec import JobSpec, RatioExpansion
from tests.jobs.conftest import create

TTL = timedelta(hours=1)
LEASE = timedelta(seconds=30)
SPEC = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=0.5), seed=1)


def mine(found: tuple[list[str], list[str]], task_id: str) -> tuple[list[str], list[str]]:
    """Only this test's task (the PostgreSQL database is shared by the session)."""
    return [i for i in found[0] if i == task_id], [i for i in found[1] if i == task_id]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_lapsed_lease_is_queued_again_then_failed_after_max_attempts(runtime: Runtime) -> None:
    clock = Clock()
    store = TaskStore(runtime.sessions, clock)
    key = runtime.keys.create(credits=3).record
    task, _ = create(runtime, key.id, SPEC, cost=2)

    first = store.claim(task.id, "a:1", 2, LEASE)
    assert first is not None
    clock.advance(20)
    assert store.renew_lease(task.id, 1, LEASE)  # held until +50
    clock.advance(25)
    assert mine(store.requeue_lapsed(2, TTL), task.id) == ([], [])
    assert store.claim(task.id, "b:2", 2, LEASE) is None  # a duplicate message: no-op

    clock.advance(10)  # +55: the holder stopped renewing
    assert mine(store.requeue_lapsed(2, TTL), task.id) == ([task.id], [])
    queued = store.get(task.id)
    assert queued is not None
    assert (queued.status, queued.worker, queued.lease_until) == ("queued", None, None)
    second = store.claim(task.id, "b:2", 2, LEASE)
    assert second is not None
    assert second.attempt == 2
    assert not store.renew_lease(task.id, 1, LEASE)  # the first attempt lost it
    blob = ResultBlob(f"results/{task.id}/0.png", 1, 1, "png")
    assert not store.succeed(task.id, 1, [blob], "telea", [], TTL)

    clock.advance(31)  # the second holder died too: max_attempts reached
    assert mine(store.requeue_lapsed(2, TTL), task.id) == ([], [task.id])
    failed = store.get(task.id)
    assert failed is not None
    assert (failed.status, failed.error_code) == ("failed", "worker_crashed")
    record = runtime.keys.get(key.id)
    assert record is not None
    assert record.credits == 3  # held credits given back


def test_queued_tasks_nobody_started_are_published_again(runtime: Runtime) -> None:
    clock = Clock()
    key = runtime.keys.create().record
    task, _ = create(runtime, key.id, SPEC)
    store = TaskStore(runtime.sessions, clock)
    clock.now = task.created_at
    waited = timedelta(seconds=120)

    def due() -> bool:
        return task.id in store.due_for_dispatch(waited)

    clock.advance(100)
    assert not due()
    clock.advance(21)
    assert due()
    assert not due()  # just published: not again at once
    clock.advance(121)
    assert due()
    assert store.claim(task.id, "a:1", 3, LEASE) is not None
    clock.advance(500)
    assert not due()  # running tasks are the leases' business


TIMEOUT = timedelta(minutes=10)


def test_a_task_whose_worker_died_is_requeued_after_an_outage_not_timed_out(
    runtime: Runtime,
) -> None:
    """The whole service was down for hours: the task's worker died long before its
    deadline, so it runs again (attempts remain) rather than failing as ``timeout``."""
    clock = Clock()
    store = TaskStore(runtime.sessions, clock)
    key = runtime.keys.create().record
    task, _ = create(runtime, key.id, SPEC)
    assert store.claim(task.id, "a:1", 3, LEASE) is not None
    clock.advance(20)
    assert store.renew_lease(task.id, 1, LEASE)  # alive at +20, then gone

    clock.advance(6 * 3600)  # the outage: far past the task's timeout
    assert [t.id for t in store.fail_overdue(TIMEOUT, LEASE, TTL) if t.id == task.id] == []
    assert mine(store.requeue_lapsed(3, TTL), task.id) == ([task.id], [])
    queued = store.get(task.id)
    assert queued is not None
    assert (queued.status, queued.error_code) == ("queued", None)


def test_the_recovery_pass_requeues_a_dead_workers_task_after_an_outage(
    runtime: Runtime,
) -> None:
    """The same through the sweeper's pass, which fails overdue tasks first."""
    clock = Clock()
    store = TaskStore(runtime.sessions, clock)
    swept = replace(runtime, tasks=store)
    swept.settings = runtime.settings.model_copy(
        update={"task_timeout_s": TIMEOUT.total_seconds(), "lease_s": LEASE.total_seconds()}
    )
    key = runtime.keys.create().record
    task, _ = create(runtime, key.id, SPEC)
    assert store.claim(task.id, "a:1", 3, LEASE) is not None
    clock.advance(6 * 3600)
    published: list[str] = []
    done = recover(swept, published.append, fail_overdue=True)
    assert task.id in done.requeued
    assert task.id not in done.failed
    assert task.id in published


def test_a_task_that_ran_past_its_timeout_fails_even_once_its_worker_died(
    runtime: Runtime,
) -> None:
    """Its worker renewed the lease after the deadline (then died or was killed): it
    really ran too long, so it fails as ``timeout`` and is not run again."""
    clock = Clock()
    store = TaskStore(runtime.sessions, clock)
    key = runtime.keys.create(credits=5).record
    task, _ = create(runtime, key.id, SPEC, cost=2)
    assert store.claim(task.id, "a:1", 3, LEASE) is not None
    for _ in range(int(TIMEOUT.total_seconds() // 10) + 3):  # renewed past +600
        clock.advance(10)
        assert store.renew_lease(task.id, 1, LEASE)
    clock.advance(3600)  # then its worker was gone for an hour
    assert [t.id for t in store.fail_overdue(TIMEOUT, LEASE, TTL) if t.id == task.id] == [task.id]
    assert mine(store.requeue_lapsed(3, TTL), task.id) == ([], [])
    failed = store.get(task.id)
    assert failed is not None
    assert (failed.status, failed.error_code) == ("failed", "timeout")
    record = runtime.keys.get(key.id)
    assert record is not None
    assert record.credits == 5


def test_a_live_task_past_its_timeout_fails_and_one_within_it_does_not(runtime: Runtime) -> None:
    clock = Clock()
    store = TaskStore(runtime.sessions, clock)
    key = runtime.keys.create().record
    task, _ = create(runtime, key.id, SPEC)
    assert store.claim(task.id, "a:1", 3, LEASE) is not None

    def overdue() -> list[str]:
        return [t.id for t in store.fail_overdue(TIMEOUT, LEASE, TTL) if t.id == task.id]

    for _ in range(59):  # renewed every 10 s up to +590: within its limit
        clock.advance(10)
        assert store.renew_lease(task.id, 1, LEASE)
    assert overdue() == []
    clock.advance(15)  # +605, its lease live: still running, too long
    assert overdue() == [task.id]


def test_a_stop_request_marks_a_running_task_and_a_requeued_one_is_canceled_not_rerun(
    runtime: Runtime,
) -> None:
    clock = Clock()
    store = TaskStore(runtime.sessions, clock)
    key = runtime.keys.create(credits=5).record
    task, _ = create(runtime, key.id, SPEC, cost=2)
    assert not store.request_cancel(task.id)  # queued: ``cancel`` is for that
    first = store.claim(task.id, "a:1", 3, LEASE)
    assert first is not None
    assert not store.cancel_requested(task.id)

    assert store.request_cancel(task.id)
    assert store.request_cancel(task.id)  # asked twice: the first time is kept
    assert store.cancel_requested(task.id)
    marked = store.get(task.id)
    assert marked is not None
    assert marked.status == "running"

    clock.advance(31)  # its worker died before it could stop: not run again, canceled
    assert mine(store.requeue_lapsed(3, TTL), task.id) == ([task.id], [])
    assert store.claim(task.id, "b:2", 3, LEASE) is None
    canceled = store.get(task.id)
    assert canceled is not None
    assert (canceled.status, canceled.error_code) == ("canceled", None)
    record = runtime.keys.get(key.id)
    assert record is not None
    assert record.credits == 5
    assert not store.request_cancel(task.id)  # finished


def test_the_attempt_that_stopped_records_the_task_canceled_and_refunds(runtime: Runtime) -> None:
    store = runtime.tasks
    key = runtime.keys.create(credits=5).record
    task, _ = create(runtime, key.id, SPEC, cost=2)
    claim = store.claim(task.id, "a:1", 3, LEASE)
    assert claim is not None
    assert store.request_cancel(task.id)
    assert not store.stop_canceled(task.id, claim.attempt + 1)  # not that attempt's
    assert store.stop_canceled(task.id, claim.attempt)
    canceled = store.get(task.id)
    assert canceled is not None
    assert canceled.status == "canceled"
    record = runtime.keys.get(key.id)
    assert record is not None
    assert record.credits == 5
