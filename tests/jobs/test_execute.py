"""``execute``: the one place work happens, and safe to call twice."""

from __future__ import annotations

import io
import itertools
import time
from typing import Any

import pytest
from PIL import Image
from service_testkit import png

from canvasfill.engines.base import Operation
from canvasfill.jobs import execute as execute_module
from canvasfill.jobs.accept import accept
from canvasfill.jobs.execute import execute
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.pipeline.prepare import PreparedJob
from canvasfill.pipeline.run import JobOutput, ProgressCallback, run
from canvasfill.pipeline.spec import Box, BoxRemoval, JobSpec


def removal(runtime: Runtime, image: bytes, n: int = 1) -> str:
    key = runtime.keys.create(credits=10).record
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=BoxRemoval(boxes=(Box(x=4, y=4, width=8, height=8),)),
        seed=11,
        engine="telea",
        n=n,
    )
    return accept(runtime, key, Submission(spec=spec, image=image))[0].id


def test_execute_stores_results_and_is_idempotent(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    task_id = removal(runtime, png(40, 30), n=2)
    execute(task_id, runtime)
    task = runtime.tasks.get(task_id)
    assert task is not None
    assert task.status == "succeeded"
    assert task.attempts == 1
    blobs = [runtime.blobs.get(result["key"]) for result in task.results]
    assert len(blobs) == 2
    with Image.open(io.BytesIO(blobs[0])) as image:
        assert image.size == (40, 30)
    execute(task_id, runtime)  # a second delivery of the same task changes nothing
    again = runtime.tasks.get(task_id)
    assert again is not None
    assert again.attempts == 1
    assert again.results == task.results


def test_bad_stored_input_fails_the_task_with_the_input_code(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    task_id = removal(runtime, png(40, 30))
    runtime.blobs.put(f"inputs/{task_id}/image", b"garbage")
    execute(task_id, runtime)
    task = runtime.tasks.get(task_id)
    assert task is not None
    assert task.status == "failed"
    assert task.error_code == "invalid_image"
    assert task.error_field == "image"
    key = runtime.keys.get(task.key_id)
    assert key is not None
    assert key.credits == 10


def test_a_missing_input_blob_fails_cleanly(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    task_id = removal(runtime, png(40, 30))
    runtime.blobs.delete_prefix(f"inputs/{task_id}")
    execute(task_id, runtime)
    task = runtime.tasks.get(task_id)
    assert task is not None
    assert task.error_code == "input_missing"


def test_progress_is_written_every_fifth_of_a_second_and_each_write_announced(
    sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow run reporting every 20 ms for 1.2 s: about six writes (one per 0.2 s),
    each announced after it is in the store, and one announcement when the task starts."""
    runtime = sqlite_runtime
    task_id = removal(runtime, png(40, 30))

    def slow_run(
        spec: JobSpec, prepared: PreparedJob, progress: ProgressCallback, **options: Any
    ) -> JobOutput:
        for percent in range(60):
            progress(percent)
            time.sleep(0.02)
        return run(spec, prepared, None, **options)

    seen: list[tuple[float, str, int]] = []

    def announced(announced_id: str) -> None:
        assert announced_id == task_id
        task = runtime.tasks.get(task_id)
        assert task is not None
        seen.append((time.monotonic(), task.status, task.progress))

    monkeypatch.setattr(execute_module, "run", slow_run)
    execute(task_id, runtime, announced)
    done = runtime.tasks.get(task_id)
    assert done is not None
    assert done.status == "succeeded"
    assert seen[0][1:] == ("running", 0)  # the task runs now
    writes = seen[1:]
    assert 4 <= len(writes) <= 7, seen
    assert all(status == "running" for _, status, _ in writes)
    values = [progress for _, _, progress in writes]
    assert all(a < b for a, b in itertools.pairwise(values)), values
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(writes)]
    assert min(gaps) >= 0.19, gaps


def test_a_failing_progress_hook_does_not_fail_the_task(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    task_id = removal(runtime, png(40, 30))

    def broken(_task_id: str) -> None:
        raise ConnectionError("the broker is gone")

    execute(task_id, runtime, broken)
    task = runtime.tasks.get(task_id)
    assert task is not None
    assert task.status == "succeeded"
