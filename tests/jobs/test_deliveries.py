"""Callback deliveries with several senders (one per API node): each is taken once."""

from __future__ import annotations

from datetime import timedelta

from canvasfill.engines.base import Operation
from canvasfill.errors import ErrorCode
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Notify, Submission
from canvasfill.jobs.tables import DeliveryState
from canvasfill.jobs.tasks import new_task_id
from canvasfill.pipeline.spec import JobSpec, RatioExpansion


def test_a_due_delivery_is_taken_by_one_sender_only(runtime: Runtime) -> None:
    key = runtime.keys.create().record
    spec = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=0.5), seed=1)
    submission = Submission(
        spec=spec, image_url="https://example.com/p.png", callback_url="https://example.com/cb"
    )
    task, _ = runtime.tasks.create(new_task_id(), key.id, submission, 0)
    assert runtime.tasks.fail(task.id, ErrorCode.ENGINE_FAILED, "boom", timedelta(hours=1))
    [delivery] = [d for d in runtime.deliveries.due(limit=1000) if d.task_id == task.id]
    # two nodes saw it due at once: only one may send it
    assert runtime.deliveries.take(delivery, timedelta(seconds=30))
    assert not runtime.deliveries.take(delivery, timedelta(seconds=30))
    assert task.id not in [d.task_id for d in runtime.deliveries.due(limit=1000)]  # held


def test_due_deliveries_are_read_page_by_page(runtime: Runtime) -> None:
    # a sender reads on past deliveries whose destination is busy (issue 26 item 3)
    key = runtime.keys.create().record
    spec = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=0.5), seed=1)
    for index in range(3):
        submission = Submission(
            spec=spec,
            image_url="https://example.com/p.png",
            callback_url=f"https://example.com/cb/{index}",
        )
        task, _ = runtime.tasks.create(new_task_id(), key.id, submission, 0)
        assert runtime.tasks.fail(task.id, ErrorCode.ENGINE_FAILED, "boom", timedelta(hours=1))
    everything = runtime.deliveries.due(limit=1000)
    paged = []
    after = None
    while page := runtime.deliveries.due(limit=1, after=after):
        paged += page
        after = (page[-1].next_attempt_at, page[-1].id)
    assert [d.id for d in paged] == [d.id for d in everything]


def test_a_tasks_events_are_due_one_at_a_time_in_order(runtime: Runtime) -> None:
    """Concurrent senders (threads, API nodes) must not overtake: the receiver of a
    task's changes gets ``task.running`` before ``task.failed``."""
    key = runtime.keys.create().record
    spec = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=0.5), seed=1)
    submission = Submission(
        spec=spec,
        image_url="https://example.com/p.png",
        callback_url="https://example.com/cb",
        notify_on=Notify.CHANGE,
    )
    task, _ = runtime.tasks.create(new_task_id(), key.id, submission, 0)
    assert runtime.tasks.claim(task.id, "host:1", 3, timedelta(seconds=30)) is not None
    assert runtime.tasks.fail(task.id, ErrorCode.ENGINE_FAILED, "boom", timedelta(hours=1))

    def due_events() -> list[str]:
        return [d.event for d in runtime.deliveries.due(limit=1000) if d.task_id == task.id]

    assert due_events() == ["task.running"]
    [running] = [d for d in runtime.deliveries.due(limit=1000) if d.task_id == task.id]
    assert runtime.deliveries.take(running, timedelta(seconds=30))
    assert due_events() == []  # held, and still first in its task's line
    runtime.deliveries.record(running.id, DeliveryState.DELIVERED, status=200, error=None)
    assert due_events() == ["task.failed"]
