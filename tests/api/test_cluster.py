"""The distributed cluster on loopback, as issue 12 describes it.

Two API nodes (``canvasfill serve``) and two Celery workers, all in processes of their
own, on one PostgreSQL database and a Redis of the test's own; blobs in the S3 server
(SeaweedFS, started by ``scripts/start-services.sh``) when it answers, else in one
local folder the nodes share. Forty
tasks come in through both nodes, the native API and the four dialects; one worker is
killed with ``kill -9`` while it runs a task, one API node while tasks are queued.
Every task must succeed exactly once: one success callback each, credits exact, polls
for the dead node's tasks answered by the other node.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
import pytest
from service_testkit import (
    S3_ENDPOINT,
    Loopback,
    canvasfill_command,
    descendant_pids,
    free_port,
    fresh_postgres_database,
    fresh_s3_bucket,
    loopback,
    redis_server,
    respond,
    s3_env,
    serve_env,
    serve_process,
    wait_until,
    worker_process,
)

from canvasfill.jobs.database import make_engine, make_sessions
from canvasfill.jobs.deliveries import DeliveryStore
from canvasfill.jobs.keys import KeyStore
from canvasfill.jobs.tasks import TaskStore
from canvasfill.sample import sample_photo_png

pytestmark = [pytest.mark.slow, pytest.mark.services]

PHOTO = sample_photo_png(160, 128, seed=4)
PHOTO_B64 = base64.b64encode(PHOTO).decode()
KLING_PHOTO_B64 = base64.b64encode(sample_photo_png(320, 304, seed=5)).decode()  # >= 300 px
CREDITS = 1000


def _s3_answers(endpoint: str) -> bool:
    parsed = urlparse(endpoint)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 80), timeout=0.5).close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def blob_settings() -> Iterator[tuple[dict[str, str], str | None]]:
    """(settings for every process, the S3 endpoint or None for a shared local folder)."""
    if not _s3_answers(S3_ENDPOINT):
        yield {}, None
        return
    with fresh_s3_bucket() as bucket:
        settings = {"blob_url": f"s3://{bucket}/cluster", "s3_endpoint_url": S3_ENDPOINT}
        yield {**settings, **{f"raw:{k}": v for k, v in s3_env().items()}}, S3_ENDPOINT


def environment(data: Path, extra: dict[str, str]) -> dict[str, str]:
    plain = {k: v for k, v in extra.items() if not k.startswith("raw:")}
    env = serve_env(data, **plain)
    env.update({k.removeprefix("raw:"): v for k, v in extra.items() if k.startswith("raw:")})
    return env


def callbacks_receiver() -> Any:
    def ok(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
        respond(handler, 200)

    return loopback({"/callback": ok})


def polite(send: Callable[[], httpx.Response]) -> httpx.Response:
    """Send, waiting out 429s (PicWish's 2 requests per second, shared by the nodes)."""
    for _ in range(60):
        answer = send()
        if answer.status_code != 429:
            return answer
        time.sleep(float(answer.headers.get("retry-after", "1")))
    raise AssertionError("rate limited for a minute")


class Node:
    """One API node as a client sees it, in every dialect."""

    def __init__(self, base: str, keys: dict[str, str]) -> None:
        self.base, self.keys = base, keys

    def kling_headers(self) -> dict[str, str]:
        now = int(time.time())
        token = jwt.encode(
            {"iss": self.keys["kling access key"], "exp": now + 1800, "nbf": now - 5},
            self.keys["kling secret key"],
            algorithm="HS256",
        )
        return {"Authorization": f"Bearer {token}"}

    def native(self, callback: str, engine: str = "telea", prompt: str = "") -> str:
        body = {"image": PHOTO_B64, "pixels": {"right": 16}, "callback_url": callback}
        body |= {"engine": engine, "prompt": prompt}
        answer = httpx.post(
            f"{self.base}/v1/expand",
            json=body,
            headers={"Authorization": f"Bearer {self.keys['key']}"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def picwish(self) -> str:
        answer = polite(
            lambda: httpx.post(
                f"{self.base}/api/tasks/visual/advanced-image-expand",
                headers={"X-API-KEY": self.keys["key"]},
                files={"image_file": ("p.png", PHOTO, "image/png")},
                timeout=30,
            )
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"]["task_id"])

    def kling(self) -> str:
        answer = httpx.post(
            f"{self.base}/v1/images/editing/expand",
            headers=self.kling_headers(),
            json={"image": KLING_PHOTO_B64, "up_expansion_ratio": 0.25},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"]["task_id"])

    def ailab(self, variant: int) -> None:
        answer = httpx.post(
            f"{self.base}/api/image/editing/ai-image-extender",
            headers={"ailabapi-api-key": self.keys["key"]},
            files={"image": ("p.png", PHOTO, "image/png")},
            data={"left": f"{0.2 + variant / 100:g}", "right": "0", "top": "0", "bottom": "0"},
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["data"]["binary_data_base64"]) == 1

    def stability(self, variant: int) -> None:
        answer = httpx.post(
            f"{self.base}/api/edit/outpaint",
            headers={"authorization": self.keys["key"]},
            files={"image": ("p.png", PHOTO, "image/png")},
            data={"left": 32 + variant, "output_format": "png"},
            timeout=120,
        )
        assert answer.status_code == 200, answer.text

    # --- polls (answered by whichever node is asked) --------------------------------

    def native_result(self, task_id: str) -> str | None:
        headers = {"Authorization": f"Bearer {self.keys['key']}"}
        task = httpx.get(f"{self.base}/v1/tasks/{task_id}", headers=headers, timeout=10).json()
        assert task["status"] not in ("failed", "canceled"), task
        return str(task["results"][0]["url"]) if task["status"] == "succeeded" else None

    def picwish_result(self, task_id: str) -> str | None:
        url = f"{self.base}/api/tasks/visual/advanced-image-expand/{task_id}"
        answer = polite(lambda: httpx.get(url, headers={"X-API-KEY": self.keys["key"]}, timeout=10))
        data = answer.json()["data"]
        assert data["state"] >= 0, data
        return str(data["image"]) if data["state"] == 1 else None

    def kling_result(self, task_id: str) -> str | None:
        url = f"{self.base}/v1/images/editing/expand/{task_id}"
        data = httpx.get(url, headers=self.kling_headers(), timeout=10).json()["data"]
        assert data["task_status"] != "failed", data
        if data["task_status"] != "succeed":
            return None
        return str(data["task_result"]["images"][0]["url"])


def test_forty_tasks_through_two_nodes_survive_a_dead_worker_and_a_dead_node(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"  # one folder: the signing secret (and local blobs) shared
    with (
        fresh_postgres_database() as database_url,
        redis_server(tmp_path / "redis.log") as redis,
        blob_settings() as (blobs, s3_endpoint),
        callbacks_receiver() as receiver,
        contextlib.ExitStack() as stack,
    ):
        env = environment(
            data,
            {
                "database_url": database_url,
                "broker_url": redis.url,
                "default_engine": "telea",
                "rate_limit": "0",
                "lease_s": "2",
                "watchdog_interval_s": "0.25",
                "republish_after_s": "10",
                "callback_poll_s": "0.1",
                "url_allow": '["127.0.0.1/32"]',  # the callback receiver is on loopback
                **blobs,
            },
        )
        ports = free_port(), free_port()
        nodes = []
        for index, port in enumerate(ports):  # one at a time: the first one migrates
            node = stack.enter_context(serve_process(env, port, tmp_path / f"api{index}.log"))
            nodes.append(node)
        output = canvasfill_command(
            "keys", "create", "--name", "cluster", "--credits", str(CREDITS), "--kling", env=env
        )
        keys = dict(re.findall(r"^(key|kling access key|kling secret key): (\S+)$", output, re.M))
        first, second = (Node(f"http://127.0.0.1:{port}", keys) for port in ports)
        workers = [
            stack.enter_context(worker_process(env, tmp_path / f"worker{index}.log"))
            for index in range(2)
        ]
        sessions = make_sessions(make_engine(database_url))
        store = TaskStore(sessions)
        callback = receiver.url("/callback")
        native_ids: list[tuple[str, Node]] = []
        picwish_ids: list[tuple[str, Node]] = []
        kling_ids: list[tuple[str, Node]] = []

        # 1. a worker killed mid-task: its task is redone by the other
        slow = first.native(callback, engine="sleepy", prompt="3")
        native_ids.append((slow, first))
        running = wait_until(
            lambda: (task := store.get(slow)) is not None and task.status == "running" and task,
            timeout=30,
        )
        pid = int(running.worker.rpartition(":")[2])
        [victim] = [w for w in workers if pid in descendant_pids(w.pid)]
        os.killpg(victim.pid, signal.SIGKILL)

        # 2. sixteen synchronous requests through both nodes at once (bodies differ: a
        # repeated synchronous request would join its twin's task)
        with ThreadPoolExecutor(max_workers=8) as pool:
            both = list(enumerate((first, second)))
            calls = [partial(node.ailab, 4 * n + i) for n, node in both for i in range(4)]
            calls += [partial(node.stability, 4 * n + i) for n, node in both for i in range(4)]
            list(pool.map(lambda call: call(), calls))

        # 3. queued on the first node, which then dies with them queued
        for _ in range(4):
            picwish_ids.append((first.picwish(), first))
            kling_ids.append((first.kling(), first))
        for _ in range(3):
            native_ids.append((first.native(callback), first))
        assert store.count_by_status().get("queued", 0) > 0
        os.killpg(nodes[0].pid, signal.SIGKILL)

        # 4. more through the second node
        for _ in range(4):
            picwish_ids.append((second.picwish(), second))
            kling_ids.append((second.kling(), second))
            native_ids.append((second.native(callback), second))

        # 5. the second node answers for every task, the dead node's too
        urls: list[str] = []
        for ids, poll in (
            (native_ids, second.native_result),
            (picwish_ids, second.picwish_result),
            (kling_ids, second.kling_result),
        ):
            for task_id, _node in ids:
                urls.append(wait_until(lambda t=task_id, p=poll: p(t), timeout=120, interval=0.3))
        for url in urls:
            if s3_endpoint is not None:  # presigned, straight from the bucket
                assert url.startswith(s3_endpoint), url
            assert httpx.get(url, timeout=30).status_code == 200

        # every task succeeded exactly once
        tasks = store.list_for_key(keys["kling access key"], 100)
        assert len(tasks) == 40
        assert {task.status for task in tasks} == {"succeeded"}
        slow_task = store.get(slow)
        assert slow_task is not None
        assert slow_task.attempts == 2
        assert all(task.attempts == 1 for task in tasks if task.id != slow)
        record = KeyStore(sessions).get(keys["kling access key"])
        assert record is not None
        assert record.credits == CREDITS - sum(task.cost for task in tasks)

        # one success callback per native task, each delivered once
        deliveries = DeliveryStore(sessions)
        wait_until(
            lambda: all(
                [d.state for d in deliveries.for_task(t)] == ["delivered"] for t, _ in native_ids
            ),
            timeout=30,
        )
        received = [json.loads(hit.body) for hit in receiver.hits("/callback")]
        ids = [hit.headers["webhook-id"] for hit in receiver.hits("/callback")]
        assert len(ids) == len(set(ids)) == len(native_ids), received
