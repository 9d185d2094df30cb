"""Killing the server mid-task loses nothing: after a restart the task finishes."""

from __future__ import annotations

import base64
import os
import re
import signal
from pathlib import Path

import httpx
import pytest
from service_testkit import free_port, image_size, png, serve_env, serve_process, wait_until

from canvasfill.jobs.database import make_engine, make_sessions
from canvasfill.jobs.tasks import TaskStore


@pytest.mark.slow
def test_a_task_survives_the_server_being_killed(tmp_path: Path) -> None:
    data, log, port = tmp_path / "data", tmp_path / "server.log", free_port()
    base = f"http://127.0.0.1:{port}"
    env = serve_env(data, watchdog_interval_s="0.25")
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
        os.killpg(first.pid, signal.SIGKILL)  # server and its workers, mid-task
        first.wait(timeout=30)

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
