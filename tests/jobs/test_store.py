"""The task store on SQLite and PostgreSQL: states, attempts, credits, idempotency, paging."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta

import pytest
from service_testkit import png

from canvasfill.engines.base import SEED_MAX, Operation
from canvasfill.errors import ErrorCode
from canvasfill.jobs.accept import accept
from canvasfill.jobs.idempotency import Idempotency, IdempotencyConflictError
from canvasfill.jobs.keys import InsufficientCreditsError
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tasks import ResultBlob
from canvasfill.pipeline.spec import JobSpec, RatioExpansion
from tests.jobs.conftest import create

TTL = timedelta(hours=1)
LEASE = timedelta(seconds=30)
LAPSED = timedelta(seconds=-1)
"""A lease already over when taken: the next claim may take the task over."""


def spec(n: int = 1, seed: int = 1) -> JobSpec:
    return JobSpec(
        operation=Operation.EXPAND,
        geometry=RatioExpansion(left=0.5),
        seed=seed,
        n=n,
        engine="telea",
    )


def credits_of(runtime: Runtime, key_id: str) -> int | None:
    record = runtime.keys.get(key_id)
    assert record is not None
    return record.credits


def test_a_task_goes_queued_running_succeeded(runtime: Runtime) -> None:
    key = runtime.keys.create(credits=5).record
    task, created = create(runtime, key.id, spec(2), cost=2)
    assert created
    assert task.status == "queued"
    assert task.seq > 0
    assert credits_of(runtime, key.id) == 3

    claim = runtime.tasks.claim(task.id, "host:1", max_attempts=3, lease=LEASE)
    assert claim is not None
    assert claim.attempt == 1
    assert runtime.tasks.claim(task.id, "host:2", 3, LEASE) is None  # lease held: a duplicate
    runtime.tasks.requeue_lapsed(3, TTL)  # not lapsed: stays with host:1
    assert runtime.tasks.release([task.id], "host") == [task.id]  # host:1 is known gone
    assert runtime.tasks.claim(task.id, "host:2", 3, LEASE) is not None  # takeover
    results = [ResultBlob(f"results/{task.id}/0.png", 10, 8, "png")]
    assert not runtime.tasks.succeed(task.id, 1, results, "telea", [], TTL)  # stale attempt
    assert runtime.tasks.succeed(task.id, 2, results, "telea", ["seed"], TTL)
    done = runtime.tasks.get(task.id)
    assert done is not None
    assert (done.status, done.progress, done.attempts) == ("succeeded", 100, 2)
    assert done.results == [{"key": results[0].key, "width": 10, "height": 8, "format": "png"}]
    assert done.results_expire_at is not None
    assert done.finished_at is not None
    assert runtime.tasks.claim(task.id, "host:3", 3, LEASE) is None  # finished: no-op
    assert not runtime.tasks.fail(task.id, ErrorCode.ENGINE_FAILED, "late", TTL)
    assert credits_of(runtime, key.id) == 3


def test_failure_and_cancel_give_the_credits_back_once(runtime: Runtime) -> None:
    key = runtime.keys.create(credits=4).record
    failing, _ = create(runtime, key.id, spec(2), cost=2)
    canceled, _ = create(runtime, key.id, spec(2), cost=2)
    assert credits_of(runtime, key.id) == 0
    with pytest.raises(InsufficientCreditsError):
        create(runtime, key.id, spec(), cost=1)

    claim = runtime.tasks.claim(failing.id, "host:1", 3, LEASE)
    assert claim is not None
    assert runtime.tasks.fail(failing.id, ErrorCode.ENGINE_FAILED, "boom", TTL, attempt=1)
    assert not runtime.tasks.fail(failing.id, ErrorCode.ENGINE_FAILED, "again", TTL)
    assert runtime.tasks.cancel(canceled.id)
    assert not runtime.tasks.cancel(canceled.id)
    assert credits_of(runtime, key.id) == 4
    failed = runtime.tasks.get(failing.id)
    assert failed is not None
    assert (failed.error_code, failed.error_message) == (
        "engine_failed",
        "boom",
    )


def test_a_task_that_keeps_killing_workers_fails(runtime: Runtime) -> None:
    key = runtime.keys.create().record
    task, _ = create(runtime, key.id, spec())
    for attempt in (1, 2):
        claim = runtime.tasks.claim(task.id, "host:1", 2, LAPSED)
        assert claim is not None
        assert claim.attempt == attempt
    assert runtime.tasks.claim(task.id, "host:1", 2, LAPSED) is None
    failed = runtime.tasks.get(task.id)
    assert failed is not None
    assert (failed.status, failed.error_code) == ("failed", "worker_crashed")


def test_overdue_tasks_fail(runtime: Runtime) -> None:
    key = runtime.keys.create().record
    left, _ = create(runtime, key.id, spec())
    runtime.tasks.claim(left.id, "host:2", 3, LEASE)
    assert runtime.tasks.fail_overdue(timedelta(hours=1), LEASE, TTL) == []
    [overdue] = runtime.tasks.fail_overdue(timedelta(seconds=-1), LEASE, TTL)
    assert overdue.id == left.id
    assert overdue.worker == "host:2"
    timed_out = runtime.tasks.get(left.id)
    assert timed_out is not None
    assert timed_out.error_code == "timeout"


def test_concurrent_reservations_never_overdraw(runtime: Runtime) -> None:
    key = runtime.keys.create(credits=7).record

    def reserve(_: int) -> bool:
        try:
            create(runtime, key.id, spec(), cost=1)
        except InsufficientCreditsError:
            return False
        return True

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(reserve, range(20)))
    assert outcomes.count(True) == 7
    assert credits_of(runtime, key.id) == 0


def test_listing_pages_newest_first_per_key(runtime: Runtime) -> None:
    mine, theirs = runtime.keys.create().record, runtime.keys.create().record
    ids = [create(runtime, mine.id, spec())[0].id for _ in range(5)]
    create(runtime, theirs.id, spec())
    first = runtime.tasks.list_for_key(mine.id, 3)
    rest = runtime.tasks.list_for_key(mine.id, 3, before_seq=first[-1].seq)
    assert [t.id for t in first + rest] == ids[::-1]
    assert [t.id for t in runtime.tasks.list_for_key(mine.id, 2, offset=4)] == [ids[0]]


def test_idempotency_returns_the_first_task_and_refuses_another_body(runtime: Runtime) -> None:
    key = runtime.keys.create(credits=10).record
    submission = Submission(spec=spec(), image=png(40, 40))
    idem = Idempotency("abc", "fingerprint-1")
    first, created = accept(runtime, key, submission, idem)
    again, created_again = accept(runtime, key, submission, idem)
    assert created
    assert not created_again
    assert first.id == again.id
    with pytest.raises(IdempotencyConflictError):
        accept(runtime, key, submission, Idempotency("abc", "fingerprint-2"))
    assert credits_of(runtime, key.id) == 9
    assert len(runtime.tasks.list_for_key(key.id, 10)) == 1


def test_accept_writes_the_inputs_before_the_task_exists(runtime: Runtime) -> None:
    key = runtime.keys.create().record
    task, _ = accept(runtime, key, Submission(spec=spec(), image=png(40, 40)))
    assert runtime.blobs.get(f"inputs/{task.id}/image") == png(40, 40)
    assert task.cost == 1
    assert task.status == "queued"


def test_a_door_can_set_its_own_price(runtime: Runtime) -> None:
    key = runtime.keys.create(credits=20).record
    submission = Submission(spec=spec(n=2), image=png(40, 40), price_per_image=8)
    task, _ = accept(runtime, key, submission)
    assert task.cost == 16
    assert credits_of(runtime, key.id) == 4


def test_the_largest_seed_is_stored(runtime: Runtime) -> None:
    key = runtime.keys.create().record
    task, _ = create(runtime, key.id, spec(seed=SEED_MAX))
    stored = runtime.tasks.get(task.id)
    assert stored is not None
    assert stored.seed == SEED_MAX
    assert stored.spec["seed"] == SEED_MAX
