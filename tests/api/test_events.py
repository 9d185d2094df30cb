"""``GET /v1/tasks/{id}/events``: Server-Sent Events of one task, then the finished task."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from service_testkit import LiveService, png, wait_until

from canvasfill.api import events as events_module
from canvasfill.api.events import OpenStreams
from canvasfill.jobs.tables import Task


def events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Parse an SSE stream into (event, data) pairs (comments and retry lines skipped)."""
    name, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


def create(client: httpx.Client, engine: str = "telea", prompt: str = "") -> str:
    response = client.post(
        "/v1/expand",
        files={"image": ("p.png", png(), "image/png")},
        data={"ratios": '{"left": 0.25}', "engine": engine, "prompt": prompt},
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["id"]
    return task_id


def open_streams(live: LiveService) -> int:
    streams: OpenStreams | None = getattr(live.app.state, "event_streams", None)
    return streams.count if streams else 0


@pytest.mark.slow
def test_the_stream_ends_with_the_finished_task(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sleepy", prompt="1")
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            received = list(events(response.iter_lines()))
        polled = client.get(f"/v1/tasks/{task_id}").json()
    names = [name for name, _ in received]
    assert names[-1] == "task"
    assert set(names[:-1]) == {"progress"}
    finished = received[-1][1]
    assert finished["status"] == "succeeded"
    assert finished["progress"] == 100
    assert finished == polled  # the native task JSON, result URLs included
    updates = [(data["status"], data["progress"]) for _, data in received[:-1]]
    assert updates[0][0] in {"queued", "running"}
    assert updates[-1] == ("succeeded", 100)
    assert "running" in {status for status, _ in updates}
    assert all(a != b for a, b in itertools.pairwise(updates)), updates
    assert all(data["id"] == task_id for _, data in received[:-1])


def test_a_finished_task_streams_its_state_and_ends(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        task_id = create(client)
        live.wait_for_task(task_id, "succeeded")
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            received = list(events(response.iter_lines()))
    assert [name for name, _ in received] == ["progress", "task"]
    assert received[0][1] == {"id": task_id, "status": "succeeded", "progress": 100}
    assert received[1][1]["id"] == task_id
    assert received[1][1]["results"][0]["width"] == 96 + 24


def test_a_canceled_task_ends_the_stream_with_its_state(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sleepy", prompt="0")
        live.runtime.tasks.cancel(task_id)  # canceled if still queued; else it succeeds
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            received = list(events(response.iter_lines()))
    assert received[-1][0] == "task"
    assert received[-1][1]["status"] in {"canceled", "succeeded"}


def test_another_keys_task_is_not_found(live: LiveService) -> None:
    with live.client(live.new_key()) as owner:
        task_id = create(owner)
    with live.client(live.new_key()) as other:
        response = other.get(f"/v1/tasks/{task_id}/events")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_task_is_not_found(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        response = client.get("/v1/tasks/tsk_nope/events")
    assert response.status_code == 404


def test_events_need_a_key(live: LiveService) -> None:
    with live.client() as client:
        response = client.get("/v1/tasks/anything/events")
    assert response.status_code == 401


@pytest.mark.slow
def test_a_client_that_leaves_does_not_leave_a_stream_behind(live: LiveService) -> None:
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sleepy", prompt="6")
        baseline = open_streams(live)
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            # held in a name: a dropped generator is collected at once, and closing it
            # closes the response, which would leave before the count is read
            received = events(response.iter_lines())
            first = next(received)
            assert first[0] == "progress"
            assert open_streams(live) == baseline + 1
        # the connection is closed here, long before the task finishes
        left_at = time.monotonic()
        wait_until(lambda: open_streams(live) == baseline, timeout=5, interval=0.05)
        assert time.monotonic() - left_at < 3
        task = live.runtime.tasks.get(task_id)
        assert task is not None
        assert task.status in {"queued", "running"}  # the task itself goes on
        live.wait_for_task(task_id, "succeeded", timeout=60)


@pytest.mark.slow
def test_an_idle_stream_sends_keep_alives(
    live: LiveService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_module, "KEEPALIVE_S", 0.3)
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sleepy", prompt="2")
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            lines = list(response.iter_lines())
    assert ": keep-alive" in lines
    assert list(events(iter(lines)))[-1][0] == "task"


def count_reads(live: LiveService, monkeypatch: pytest.MonkeyPatch, task_id: str) -> list[float]:
    """From now on, the times at which the service reads task ``task_id``."""
    tasks = live.runtime.tasks
    original = tasks.get
    reads: list[float] = []

    def get(wanted: str) -> Task | None:
        if wanted == task_id:
            reads.append(time.monotonic())
        return original(wanted)

    monkeypatch.setattr(tasks, "get", get)
    return reads


@pytest.mark.slow
def test_the_stream_follows_the_workers_events_without_polling(
    live: LiveService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued behind another task on the one worker, then run by it: the stream hears
    "running" from the worker process itself (re-checks are off here), and reads the
    task only when told of a change, not on a timer."""
    monkeypatch.setattr(events_module, "RECHECK_S", 60.0)
    with live.client(live.new_key()) as client:
        create(client, engine="sleepy", prompt="1.5")  # holds the only worker for a while
        task_id = create(client, engine="sleepy", prompt="1")
        reads = count_reads(live, monkeypatch, task_id)
        started = time.monotonic()
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            received = list(events(response.iter_lines()))
        streamed_s = time.monotonic() - started
    updates = [(data["status"], data["progress"]) for name, data in received if name == "progress"]
    assert updates[0] == ("queued", 0)
    assert ("running", 0) in updates
    assert updates[-1] == ("succeeded", 100)
    assert received[-1][0] == "task"
    assert streamed_s > 2.0  # long enough for a poller to have read it a dozen times
    # one read to authorize, one per event heard (start, progress, end), the finish hook's
    assert len(reads) <= 7, [round(at - started, 2) for at in reads]


@pytest.mark.slow
def test_each_progress_write_is_streamed_as_it_is_announced(
    live: LiveService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Progress written and announced as a worker does (here by the test, every 0.3 s,
    while the real worker sleeps): each value is streamed, in order."""
    monkeypatch.setattr(events_module, "RECHECK_S", 60.0)
    with live.client(live.new_key()) as client:
        task_id = create(client, engine="sleepy", prompt="3")
        running = live.wait_for_task(task_id, "running")

        def report() -> None:
            for percent in (20, 40, 60):
                time.sleep(0.3)
                live.runtime.tasks.set_progress(task_id, running.attempts, percent)
                live.service.events.publish_progress(task_id)

        reporter = threading.Thread(target=report)
        with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            reporter.start()
            received = list(events(response.iter_lines()))
        reporter.join()
    updates = [(data["status"], data["progress"]) for name, data in received if name == "progress"]
    assert updates[:4] == [("running", 0), ("running", 20), ("running", 40), ("running", 60)]
    assert updates[-1] == ("succeeded", 100)
