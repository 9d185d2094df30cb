"""Issue 26 item 3: one tenant's dead callback endpoint delays nobody else's callbacks.

Two receivers on loopback: one accepts connections and never answers, one answers at
once. Five deliveries to the dead one are due before one to the healthy one; that one
must arrive well within a single attempt's timeout, and the dead endpoint never holds
more connections than the per-destination bound.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from service_testkit import Loopback, loopback, respond, service_settings, wait_until

from canvasfill.engines.base import Operation
from canvasfill.errors import ErrorCode
from canvasfill.jobs.callbacks import CallbackSender
from canvasfill.jobs.runtime import Runtime, build_runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tasks import new_task_id
from canvasfill.pipeline.spec import JobSpec, RatioExpansion

TIMEOUT_S = 3.0


class Silent:
    """A listening socket that accepts every connection and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.most_open = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _open(self) -> int:
        alive = 0
        for conn in self.accepted:
            try:
                conn.setblocking(False)
                if conn.recv(65536, socket.MSG_PEEK) == b"":
                    continue  # the client gave up and closed it
            except BlockingIOError:
                pass
            except OSError:
                continue
            alive += 1
        return alive

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                self.most_open = max(self.most_open, self._open())
                continue
            self.accepted.append(conn)
            self.most_open = max(self.most_open, self._open())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@contextmanager
def silent() -> Iterator[Silent]:
    server = Silent()
    try:
        yield server
    finally:
        server.close()


def ok(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 204)


def queue_failed_task(runtime: Runtime, key_id: str, callback_url: str) -> str:
    spec = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=0.5), seed=1)
    submission = Submission(
        spec=spec, image_url="https://example.com/p.png", callback_url=callback_url
    )
    task, _ = runtime.tasks.create(new_task_id(), key_id, submission, 0)
    assert runtime.tasks.fail(task.id, ErrorCode.ENGINE_FAILED, "boom", timedelta(hours=1))
    return task.id


@pytest.mark.slow  # waits out a dead endpoint
def test_a_dead_endpoint_does_not_delay_another_tenants_callback(tmp_path: Path) -> None:
    settings = service_settings(
        tmp_path / "data",
        callback_timeout_s=TIMEOUT_S,
        callback_backoff_s=60,
        callback_per_destination=2,
        callback_concurrency=8,
    )
    runtime = build_runtime(settings, apply_migrations=True)
    with silent() as dead, loopback({"/ok": ok}) as healthy:
        stuck = runtime.keys.create(name="dead endpoint").record
        fine = runtime.keys.create(name="healthy endpoint").record
        for index in range(5):
            queue_failed_task(runtime, stuck.id, f"http://127.0.0.1:{dead.port}/hook/{index}")
        task_id = queue_failed_task(runtime, fine.id, healthy.url("/ok"))

        sender = CallbackSender(runtime, lambda task, event: {"id": task.id, "type": event})
        began = time.monotonic()
        sender.start()
        try:
            wait_until(lambda: healthy.hits("/ok"), timeout=5 * TIMEOUT_S + 5, interval=0.02)
            waited = time.monotonic() - began
            wait_until(
                lambda: runtime.tasks.get(task_id).callback_state == "delivered",  # type: ignore[union-attr]
                timeout=5,
            )
            time.sleep(0.5)  # let the dead endpoint's connections pile up if they would
        finally:
            sender.stop()
            runtime.close()
        assert waited < TIMEOUT_S / 2, f"the healthy callback waited {waited:.2f} s"
        assert 1 <= dead.most_open <= 2, dead.most_open
