"""Issue 26 item 7: a publish to a broker that does not answer fails within
``broker_timeout_s`` (the sweeper publishes the task again later), so the publisher
thread is not stuck, and every task queued behind it with it."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from service_testkit import service_settings

from canvasfill.engines.base import Operation
from canvasfill.jobs.dispatch.celery_queue import CeleryDispatcher
from canvasfill.jobs.runtime import build_runtime
from canvasfill.pipeline.spec import JobSpec, RatioExpansion
from tests.jobs.conftest import create


def test_a_publish_to_a_frozen_broker_fails_within_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as frozen:  # listens, never accepts: a stopped broker
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(8)
        url = f"redis://127.0.0.1:{frozen.getsockname()[1]}/0"
        settings = service_settings(tmp_path / "data", broker_url=url, broker_timeout_s=0.5)
        runtime = build_runtime(settings, apply_migrations=True)
        try:
            key = runtime.keys.create().record
            spec = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=0.5), seed=1)
            task, _ = create(runtime, key.id, spec)
            dispatcher = CeleryDispatcher(runtime)
            outcome: list[str] = []

            def publish() -> None:
                try:
                    dispatcher.publish(task.id)
                    outcome.append("sent")
                except Exception as exc:
                    outcome.append(type(exc).__name__)

            began = time.monotonic()
            thread = threading.Thread(target=publish, daemon=True)
            thread.start()
            thread.join(timeout=15)
            seconds = time.monotonic() - began
        finally:
            runtime.close()
    assert outcome, f"the publish still hangs after {seconds:.1f} s"
    assert outcome != ["sent"]
    assert seconds < 8  # three tries of 0.5 s and their pauses; it was forever
