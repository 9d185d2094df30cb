"""Killing the server mid-task loses nothing: its workers exit on their own within
seconds, the task's lease lapses, and the restarted server finishes it. A graceful stop
leaves no process and no leaked semaphore, however slow the machine."""

from __future__ import annotations

import base64
import gc
import multiprocessing
import os
import re
import signal
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor, process
from pathlib import Path

import httpx
import pytest
from service_testkit import (
    alive,
    descendant_pids,
    free_port,
    image_size,
    png,
    serve_env,
    serve_process,
    wait_until,
)

from canvasfill.jobs.database import make_engine, make_sessions
from canvasfill.jobs.dispatch.embedded import EmbeddedDispatcher
from canvasfill.jobs.tasks import TaskStore


@pytest.mark.slow
def test_a_task_survives_the_server_being_killed(tmp_path: Path) -> None:
    data, log, port = tmp_path / "data", tmp_path / "server.log", free_port()
    base = f"http://127.0.0.1:{port}"
    env = serve_env(data, watchdog_interval_s="0.25", lease_s="2")
    with serve_process(env, port, log) as first:
        found = re.search(r"(cf_[A-Za-z0-9_\-]{20,})", log.read_text())
        assert found, "serve did not print a first key on a fresh data folder"
        headers = {"Authorization": f"Bearer {found.group(1)}"}
        created = httpx.post(
            f"{base}/v1/expand",
            json={
                "image": base64.b64encode(png(64, 48)).decode(),
                "pixels": {"right": 32},
                "engine": "sleepy",
                "prompt": "4",
            },
            headers=headers,
        )
        assert created.status_code == 202
        task_id = created.json()["id"]
        wait_until(
            lambda: (
                httpx.get(f"{base}/v1/tasks/{task_id}", headers=headers).json()["status"]
                == "running"
            )
        )
        descendants = descendant_pids(first.pid)
        assert descendants, "the server has no worker processes"
        os.kill(first.pid, signal.SIGKILL)  # the server alone, mid-task: not its group
        first.wait(timeout=30)
        started = time.monotonic()
        wait_until(lambda: not any(alive(pid) for pid in descendants), timeout=10)
        print(f"workers gone {time.monotonic() - started:.2f} s after the server")

    store = TaskStore(make_sessions(make_engine(f"sqlite:///{data / 'canvasfill.db'}")))
    left = store.get(task_id)
    assert left is not None
    assert left.status == "running"

    with serve_process(env, port, log):
        keys = set(re.findall(r"cf_[A-Za-z0-9_\-]{20,}", log.read_text()))
        assert keys == {found.group(1)}  # no second first key
        task = wait_until(
            lambda: (
                (body := httpx.get(f"{base}/v1/tasks/{task_id}", headers=headers).json())["status"]
                in ("succeeded", "failed")
                and body
            ),
            timeout=60,
        )
        assert task["status"] == "succeeded", task
        result = httpx.get(task["results"][0]["url"])
        assert result.status_code == 200
        assert image_size(result.content) == (96, 48)
    final = store.get(task_id)
    assert final is not None
    assert final.attempts == 2


SLOW_POOL_MANAGER = """
import time
from concurrent.futures import process

_close = process._ExecutorManagerThread.join_executor_internals


def _slowly(self):
    time.sleep(1.5)  # what a loaded machine does to this thread
    _close(self)


process._ExecutorManagerThread.join_executor_internals = _slowly
"""
"""A ``sitecustomize`` that makes the pool's manager thread as slow to close the pool's
queues as it is on a loaded CI machine: the flake, every time, before the fix."""


@pytest.mark.slow
@pytest.mark.parametrize("machine", ["quiet", "loaded"])
def test_a_graceful_stop_leaves_no_process_and_no_warning(tmp_path: Path, machine: str) -> None:
    data, log, port = tmp_path / "data", tmp_path / "server.log", free_port()
    env = serve_env(data)
    if machine == "loaded":
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "sitecustomize.py").write_text(SLOW_POOL_MANAGER)
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), env["PYTHONPATH"]])
    with serve_process(env, port, log, workers=2) as server:
        found = re.search(r"(cf_[A-Za-z0-9_\-]{20,})", log.read_text())
        assert found
        created = httpx.post(  # workers start with the first task
            f"http://127.0.0.1:{port}/v1/expand",
            json={"image": base64.b64encode(png(64, 48)).decode(), "pixels": {"right": 8}},
            headers={"Authorization": f"Bearer {found.group(1)}", "Prefer": "wait=30"},
            timeout=60,
        )
        assert created.status_code == 200, created.text
        assert created.json()["status"] == "succeeded"
        wait_until(lambda: len(descendant_pids(server.pid)) >= 2, timeout=30)
        descendants = descendant_pids(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises it
    wait_until(lambda: not any(alive(pid) for pid in descendants), timeout=10)
    output = log.read_text()
    assert "resource_tracker" not in output, output
    assert "leaked" not in output, output


def _sleep() -> None:
    time.sleep(0.05)


def test_stopping_the_pool_waits_for_its_queues_to_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cause of the graceful-stop flake, made certain: a loaded machine's pool
    manager thread is slow to close the pool's queues. ``_terminate`` must wait for it,
    so that no semaphore is left for the resource tracker to call leaked when uvicorn
    ends the process by its signal. (``shutdown(wait=False)`` forgets that thread;
    joining nothing afterwards left the queues, and their semaphores, alive.)"""
    slow = threading.Event()
    original = process._ExecutorManagerThread.join_executor_internals

    def slowly(self: process._ExecutorManagerThread) -> None:
        slow.set()
        time.sleep(1.5)  # what a busy machine does to this thread
        original(self)

    monkeypatch.setattr(process._ExecutorManagerThread, "join_executor_internals", slowly)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(_sleep).result(timeout=60)
    call_queue = weakref.ref(pool._call_queue)  # type: ignore[attr-defined]
    result_queue = weakref.ref(pool._result_queue)  # type: ignore[attr-defined]
    [manager] = [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, process._ExecutorManagerThread)
    ]
    EmbeddedDispatcher._terminate(pool)
    del pool
    assert slow.is_set()
    assert not manager.is_alive()
    del manager  # the thread object holds the queues too
    gc.collect()
    assert call_queue() is None  # collected: its semaphores are unlinked and unregistered
    assert result_queue() is None
