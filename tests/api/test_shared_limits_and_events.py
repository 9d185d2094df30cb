"""Redis-backed pieces on a redis-server of the test's own: shared rate limits and task
events across two "nodes"; and in-process events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from service_testkit import RedisServer, redis_server, wait_until

from canvasfill.api import steps
from canvasfill.api.ratelimit import RateLimiter, RedisRateLimiter, limiter_for
from canvasfill.jobs.events import LocalEvents, RedisEvents, TaskEvents


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis") / "redis.log") as server:
        yield server


@pytest.mark.services
def test_two_nodes_draw_from_one_window_per_key(redis: RedisServer) -> None:
    # one per 30 s in real time: Redis expires the window's key in real time, and 30 s
    # leave a slow machine all the time it needs between the calls
    first, second = (RedisRateLimiter(1 / 30, redis.url, name="t1") for _ in (1, 2))
    assert first.acquire("k") is None
    wait = second.acquire("k")  # the window is spent for both nodes
    assert wait is not None
    assert 25 < wait <= 30
    assert first.acquire("k") == pytest.approx(wait, abs=5)
    assert second.acquire("other") is None  # per key


@pytest.mark.services
def test_the_shared_window_moves(redis: RedisServer, limit_clock: list[float]) -> None:
    node = RedisRateLimiter(2, redis.url, name="t2")
    answers = [node.acquire("k") for _ in range(3)]
    assert answers[:2] == [None, None]
    assert answers[2] == pytest.approx(1.0)  # frozen: exactly the window's length
    limit_clock[0] += 1.01  # both entries have left the one-second window
    assert node.acquire("k") is None


@pytest.mark.services
def test_a_limiter_is_shared_only_with_a_broker(redis: RedisServer) -> None:
    assert isinstance(limiter_for(1, None), RateLimiter)
    assert isinstance(limiter_for(1, redis.url), RedisRateLimiter)
    assert limiter_for(0, redis.url).acquire("k") is None  # 0 turns limits off


def test_an_unreachable_redis_lets_requests_through(tmp_path: Path) -> None:
    limiter = RedisRateLimiter(1, "redis://127.0.0.1:1/0")
    assert limiter.acquire("k") is None


async def _woken(events: TaskEvents, publisher: TaskEvents, task_id: str) -> bool:
    with events.watch(task_id) as watch:
        asyncio.get_running_loop().call_later(0.05, publisher.publish, task_id)
        return await watch.wait(5)


def test_local_events_wake_the_waiter_of_that_task_only() -> None:
    events = LocalEvents()

    async def scenario() -> tuple[bool, bool]:
        with events.watch("other") as other:
            woken = await _woken(events, events, "t")
            return woken, await other.wait(0.05)

    assert asyncio.run(scenario()) == (True, False)


@pytest.mark.services
def test_redis_events_cross_processes(redis: RedisServer) -> None:
    node = RedisEvents(redis.url)
    worker = RedisEvents(redis.url)  # a worker only publishes
    node.start()
    try:
        wait_until(node.subscribed.is_set, timeout=10)
        assert asyncio.run(_woken(node, worker, "t1"))
    finally:
        node.stop()


async def _wakes(events: TaskEvents, publish: Callable[[str], None]) -> tuple[bool, bool]:
    """(woke the progress watcher, woke the outcome-only watcher) after ``publish("t")``."""
    with events.watch("t", progress=True) as progress, events.watch("t") as outcome:
        asyncio.get_running_loop().call_later(0.05, publish, "t")
        woke_progress = await progress.wait(5)
        return woke_progress, await outcome.wait(0.3)


def test_progress_events_wake_only_the_waiters_that_asked_for_progress() -> None:
    events = LocalEvents()
    assert asyncio.run(_wakes(events, events.publish_progress)) == (True, False)
    assert asyncio.run(_wakes(events, events.publish)) == (True, True)  # an outcome wakes all


@pytest.mark.services
def test_progress_events_cross_processes_without_waking_the_outcome_hook(
    redis: RedisServer,
) -> None:
    outcomes: list[str] = []
    node = RedisEvents(redis.url, outcomes.append)
    node.start()
    try:
        wait_until(node.subscribed.is_set, timeout=10)
        worker = RedisEvents(redis.url)
        assert asyncio.run(_wakes(node, worker.publish_progress)) == (True, False)
        assert outcomes == []  # the callback sender is not woken by progress
        assert asyncio.run(_wakes(node, worker.publish)) == (True, True)
        wait_until(lambda: outcomes == ["t"], timeout=5)
    finally:
        node.stop()


class _CountingTasks:
    """A task store that counts reads and says the task finished once told so."""

    def __init__(self) -> None:
        self.reads = 0
        self.finished = False

    def get(self, task_id: str) -> SimpleNamespace:
        self.reads += 1
        return SimpleNamespace(id=task_id, status="succeeded" if self.finished else "queued")


def _waited_reads(early: bool) -> int:
    """Reads ``steps.wait`` made of a queued task that finishes (and is announced) 50 ms
    into the wait, with a watch opened before dispatch (``early``) or not."""
    events = LocalEvents()
    tasks = _CountingTasks()
    service: Any = SimpleNamespace(events=events, runtime=SimpleNamespace(tasks=tasks))

    def finish() -> None:
        tasks.finished = True
        events.publish("t")

    async def scenario() -> str:
        task: Any = SimpleNamespace(id="t", status="queued")
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, finish)
        if not early:
            return str((await steps.wait(service, task, 5)).status)
        with events.watch("t", loop=loop) as watch:
            return str((await steps.wait(service, task, 5, watch)).status)

    assert asyncio.run(scenario()) == "succeeded"
    return tasks.reads


def test_a_wait_on_a_watch_opened_before_dispatch_reads_the_task_once_finished() -> None:
    assert _waited_reads(early=True) == 1  # only after the wake-up
    assert _waited_reads(early=False) == 2  # a re-read once listening, then after it
