"""The whole app with its blobs in an S3 bucket (SeaweedFS on loopback): inputs land in the
bucket before the task is acknowledged, results are fetched from presigned bucket URLs
with no API key, and the API serves no result bytes itself."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from service_testkit import (
    S3_ENDPOINT,
    LiveService,
    image_size,
    live_service,
    png,
    s3_client,
    s3_keys,
    service_settings,
)

PREFIX = "cf"


@pytest.fixture(scope="module")
def s3_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveService, str]]:
    # module-scoped, so the AWS variables are set by hand (monkeypatch is per test)
    with pytest.MonkeyPatch.context() as patch:
        from service_testkit import fresh_s3_bucket, s3_env

        for name, value in s3_env().items():
            patch.setenv(name, value)
        with fresh_s3_bucket() as bucket:
            settings = service_settings(
                tmp_path_factory.mktemp("data"),
                blob_url=f"s3://{bucket}/{PREFIX}",
                s3_endpoint_url=S3_ENDPOINT,
            )
            with live_service(settings) as live:
                yield live, bucket


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.slow
@pytest.mark.services
def test_native_expand_in_s3_mode(s3_live: tuple[LiveService, str]) -> None:
    live, bucket = s3_live
    client = s3_client()
    # the pool's worker may still be starting on a busy machine: generous waits
    with live.client(live.new_key(), timeout=90) as api:
        # a task that takes a while: its inputs are in the bucket when the 202 comes back
        queued = api.post(
            "/v1/expand",
            json={
                "image": b64(png(64, 48)),
                "pixels": {"right": 16},
                "engine": "sleepy",
                "prompt": "0.5",
            },
        )
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] in ("queued", "running")
        slow_id = queued.json()["id"]
        assert s3_keys(client, bucket, f"{PREFIX}/inputs/{slow_id}/") == [
            f"{PREFIX}/inputs/{slow_id}/image"
        ]

        response = api.post(
            "/v1/expand",
            json={"image": b64(png(80, 60)), "pixels": {"left": 40}, "engine": "telea"},
            headers={"Prefer": "wait=60"},
        )
        assert response.status_code == 200, response.text
        task = response.json()
        assert task["status"] == "succeeded"

    [result] = task["results"]
    url = result["url"]
    # straight from the bucket, not through the API's /files
    assert url.startswith(f"{S3_ENDPOINT}/{bucket}/{PREFIX}/results/{task['id']}/0.png?")
    assert not url.startswith(live.base_url)
    assert "X-Amz-Signature=" in url
    image = httpx.get(url)  # no API key
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image_size(image.content) == (120, 60)
    assert s3_keys(client, bucket, f"{PREFIX}/inputs/{task['id']}/") == [
        f"{PREFIX}/inputs/{task['id']}/image"
    ]
    # the API has no copy to serve: a /files URL for the same key finds nothing
    key = urlsplit(url).path.removeprefix(f"/{bucket}/{PREFIX}/")
    signed = live.runtime.signer.signature(key, 2**31)
    local = httpx.get(f"{live.base_url}/files/{key}?expires={2**31}&signature={signed}")
    assert local.status_code == 404
    live.wait_for_task(slow_id, "succeeded")


@pytest.mark.services
def test_ready_checks_the_bucket(s3_live: tuple[LiveService, str]) -> None:
    live, _ = s3_live
    ready = httpx.get(f"{live.base_url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["blobs"] is True


def test_a_bad_blob_url_stops_the_start_with_a_clear_error(tmp_path: Path) -> None:
    from canvasfill.api.app import create_app
    from canvasfill.storage.s3 import BlobUrlError

    with pytest.raises(BlobUrlError, match="not a valid S3 bucket name"):
        create_app(service_settings(tmp_path / "data", blob_url="s3://Not_A_Bucket/x"))


def test_the_environment_chooses_the_bucket(
    tmp_path: Path, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from canvasfill.jobs.runtime import build_runtime
    from canvasfill.settings import Settings
    from canvasfill.storage.s3 import S3BlobStore

    monkeypatch.setenv("CANVASFILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CANVASFILL_BLOB_URL", f"s3://{s3_bucket}/from-env")
    monkeypatch.setenv("CANVASFILL_S3_ENDPOINT_URL", S3_ENDPOINT)
    runtime = build_runtime(Settings(), apply_migrations=True)
    try:
        assert isinstance(runtime.blobs, S3BlobStore)
        runtime.blobs.put("inputs/t/image", b"x")
        assert s3_keys(s3_client(), s3_bucket, "from-env/") == ["from-env/inputs/t/image"]
    finally:
        runtime.close()
