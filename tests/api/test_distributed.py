"""Distributed mode on loopback: the API in this process, Celery workers in their own.

Each test runs its own redis-server (no persistence) on a free port, so it can kill
and restart it, and so no other test run's workers take its messages. The database
is the data folder's SQLite file, shared by the API and the workers.
"""

from __future__ import annotations

import base64
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_testkit import (
    LiveService,
    RedisServer,
    descendant_pids,
    image_size,
    live_service,
    png,
    redis_server,
    serve_env,
    service_settings,
    wait_until,
    worker_process,
)

from canvasfill.api.ratelimit import RedisRateLimiter
from canvasfill.jobs.dispatch.celery_queue import CeleryDispatcher
from canvasfill.jobs.events import RedisEvents

pytestmark = [pytest.mark.slow, pytest.mark.services]

LEASE = {"lease_s": "2", "watchdog_interval_s": "0.25"}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path / "redis.log") as server:
        yield server


def distributed(tmp_path: Path, redis: RedisServer, **overrides: Any) -> Any:
    """The in-thread API node, on the data folder the workers share."""
    values: dict[str, Any] = {"broker_url": redis.url, "lease_s": 2.0, **overrides}
    return live_service(service_settings(tmp_path / "data", **values))


def worker_env(tmp_path: Path, redis: RedisServer) -> dict[str, str]:
    return serve_env(tmp_path / "data", broker_url=redis.url, **LEASE)


def body(engine: str = "sleepy", prompt: str = "0") -> dict[str, Any]:
    return {
        "image": base64.b64encode(png(64, 48)).decode(),
        "pixels": {"right": 32},
        "engine": engine,
        "prompt": prompt,
    }


def task_status(live: LiveService, task_id: str) -> str:
    task = live.runtime.tasks.get(task_id)
    assert task is not None
    return task.status


def test_a_worker_process_runs_a_task_submitted_through_the_native_api(
    tmp_path: Path, redis: RedisServer
) -> None:
    with distributed(tmp_path, redis) as live:
        assert isinstance(live.service.dispatcher, CeleryDispatcher)
        assert isinstance(live.service.events, RedisEvents)
        assert isinstance(live.service.limiter, RedisRateLimiter)
        key = live.new_key(credits=5)
        with live.client(key) as client:
            queued = client.post("/v1/expand", json=body())
            assert queued.status_code == 202
            wait_until(lambda: redis.llen("cpu") == 1, timeout=10)  # waits for a worker
            with worker_process(worker_env(tmp_path, redis), tmp_path / "worker.log"):
                live.wait_for_task(queued.json()["id"], "succeeded", timeout=60)
                # a synchronous wait is woken by the worker's event over Redis
                events = live.service.events
                assert isinstance(events, RedisEvents)
                wait_until(events.subscribed.is_set, timeout=10)
                done = client.post("/v1/expand", json=body(), headers={"Prefer": "wait=30"})
                assert done.status_code == 200, done.text
                assert done.json()["status"] == "succeeded"
                result = httpx.get(done.json()["results"][0]["url"])
                assert image_size(result.content) == (96, 48)
        record = live.runtime.keys.authenticate(key)
        assert record is not None
        assert record.credits == 3


def test_a_task_whose_worker_is_killed_is_redone_and_succeeds_once(
    tmp_path: Path, redis: RedisServer
) -> None:
    env = worker_env(tmp_path, redis)
    with (
        distributed(tmp_path, redis) as live,
        worker_process(env, tmp_path / "a.log") as first,
        worker_process(env, tmp_path / "b.log") as second,
    ):
        key = live.new_key(credits=5)
        with live.client(key) as client:
            created = client.post("/v1/expand", json=body(prompt="3"))
        task_id = created.json()["id"]
        running = live.wait_for_task(task_id, "running", timeout=30)
        pid = int(running.worker.rpartition(":")[2])
        victim = first if pid in descendant_pids(first.pid) else second
        assert pid in descendant_pids(victim.pid)
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its processes, mid-task
        done = live.wait_for_task(task_id, "succeeded", timeout=60)
        assert done.attempts == 2
        assert done.worker != running.worker
        events = [d.event for d in live.runtime.deliveries.for_task(task_id)]
        assert events.count("succeeded") <= 1
        record = live.runtime.keys.authenticate(key)
        assert record is not None
        assert record.credits == 4  # charged once


def test_tasks_queued_when_redis_restarts_are_published_again(
    tmp_path: Path, redis: RedisServer
) -> None:
    with distributed(tmp_path, redis, republish_after_s=1.0) as live:
        key = live.new_key()
        with live.client(key) as client:
            ids = [client.post("/v1/expand", json=body()).json()["id"] for _ in range(3)]
        wait_until(lambda: redis.llen("cpu") >= 3, timeout=10)
        redis.kill()  # no persistence: the messages are gone
        redis.start()
        wait_until(lambda: redis.llen("cpu") >= 3, timeout=20)  # published again from the database
        with worker_process(worker_env(tmp_path, redis), tmp_path / "worker.log"):
            for task_id in ids:
                live.wait_for_task(task_id, "succeeded", timeout=60)
        for task_id in ids:
            task = live.runtime.tasks.get(task_id)
            assert task is not None
            assert (task.attempts, task.dispatched_at is not None) == (1, True)


def test_with_the_broker_down_a_request_is_refused_fast_and_uncharged(
    tmp_path: Path, redis: RedisServer
) -> None:
    """Issue 26 item 7: a stopped broker used to let a synchronous call hang for the
    client's whole timeout; now the door answers 503 in its envelope before anything is
    stored or charged, and takes work again once the broker is back."""
    with distributed(tmp_path, redis, ready_timeout_s=1.0) as live:
        key = live.new_key(credits=5)
        redis.kill()
        with live.client(key) as client:
            started = time.monotonic()
            refused = client.post("/v1/expand", json=body(), headers={"Prefer": "wait=30"})
            seconds = time.monotonic() - started
            stability = client.post(
                "/api/edit/outpaint",
                headers={"authorization": key},
                files={"image": ("a.png", png(64, 48), "image/png")},
                data={"left": "16"},
            )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "service_unavailable"
        assert refused.headers["retry-after"] == "5"
        assert seconds < 10
        assert stability.status_code == 503
        assert stability.json()["code"] == -1
        record = live.runtime.keys.authenticate(key)
        assert record is not None
        assert record.credits == 5
        assert live.runtime.tasks.list_for_key(record.id, 10) == []
        redis.start()
        time.sleep(live.app.state.readiness.fresh_s + 0.1)
        with live.client(key) as client:
            accepted = client.post("/v1/expand", json=body())
        assert accepted.status_code == 202, accepted.text
