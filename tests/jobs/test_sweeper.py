"""The sweeper, without the app: only what is due goes, from a folder or from a bucket."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from service_testkit import S3_ENDPOINT, s3_client, s3_keys, service_settings

from canvasfill.engines.base import Operation
from canvasfill.jobs.runtime import Runtime, build_runtime
from canvasfill.jobs.sweeper import sweep
from canvasfill.jobs.tasks import ResultBlob
from canvasfill.pipeline.spec import JobSpec, RatioExpansion
from tests.jobs.conftest import create


def finished_tasks(runtime: Runtime) -> tuple[str, str]:
    """Two succeeded tasks with an input and a result each: one due, one kept an hour."""
    key = runtime.keys.create().record
    spec = JobSpec(operation=Operation.EXPAND, geometry=RatioExpansion(left=1), seed=1)
    ids = []
    for ttl in (timedelta(seconds=-1), timedelta(hours=1)):
        task, _ = create(runtime, key.id, spec)
        runtime.blobs.put(f"inputs/{task.id}/image", b"in")
        runtime.blobs.put(f"results/{task.id}/0.png", b"out")
        runtime.tasks.claim(task.id, "h:1", 3, timedelta(seconds=30))
        blob = ResultBlob(f"results/{task.id}/0.png", 1, 1, "png")
        assert runtime.tasks.succeed(task.id, 1, [blob], "telea", [], ttl)
        ids.append(task.id)
    expired, kept = ids
    return expired, kept


def test_sweep_deletes_only_expired_tasks_blobs(tmp_path: Path) -> None:
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    expired, kept = finished_tasks(runtime)
    assert sweep(runtime) == [expired]
    assert sweep(runtime) == []
    assert not runtime.blobs.exists(f"results/{expired}/0.png")
    assert not runtime.blobs.exists(f"inputs/{expired}/image")
    assert runtime.blobs.exists(f"results/{kept}/0.png")
    gone = runtime.tasks.get(expired)
    assert gone is not None
    assert gone.results_expired
    assert gone.results == []
    runtime.close()


def test_sweep_removes_expired_tasks_objects_from_the_bucket(
    tmp_path: Path, s3_bucket: str
) -> None:
    settings = service_settings(
        tmp_path / "data", blob_url=f"s3://{s3_bucket}/cf", s3_endpoint_url=S3_ENDPOINT
    )
    runtime = build_runtime(settings, apply_migrations=True)
    expired, kept = finished_tasks(runtime)
    client = s3_client()
    assert len(s3_keys(client, s3_bucket, f"cf/inputs/{expired}/")) == 1
    assert sweep(runtime) == [expired]
    assert s3_keys(client, s3_bucket, "cf/inputs/") == [f"cf/inputs/{kept}/image"]
    assert s3_keys(client, s3_bucket, "cf/results/") == [f"cf/results/{kept}/0.png"]
    runtime.close()
