"""The S3 blob store against a real S3 server (SeaweedFS on loopback, see
``scripts/start-services.sh``): the ``BlobStore`` contract, presigned URLs, start-up
preparation, and the blob URL that chooses the store."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_testkit import (
    S3_ENDPOINT,
    free_port,
    fresh_s3_bucket,
    s3_client,
    s3_env,
    s3_keys,
    wait_until,
)

from canvasfill.storage.base import BlobNotFoundError, BlobStoreError, input_key, result_key
from canvasfill.storage.blob_url import open_blob_store
from canvasfill.storage.local import LocalBlobStore
from canvasfill.storage.s3 import (
    LIFECYCLE_RULE_PREFIX,
    PRESIGN_MAX_S,
    BlobUrlError,
    S3BlobStore,
    S3Location,
    lifecycle_days,
    make_client,
    parse_s3_url,
)
from canvasfill.storage.signing import UrlSigner

SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def bucket() -> Iterator[str]:
    with fresh_s3_bucket() as name:
        yield name


@pytest.fixture
def client() -> Any:
    return s3_client()


@pytest.fixture
def store(bucket: str, client: Any) -> S3BlobStore:
    return S3BlobStore(S3Location(bucket, "deploy/one"), client)


@pytest.mark.services
def test_put_get_replace_exists(store: S3BlobStore, client: Any, bucket: str) -> None:
    key = input_key("task-1", "image")
    store.put(key, b"first")
    store.put(key, b"second")
    assert store.get(key) == b"second"
    assert store.exists(key)
    assert s3_keys(client, bucket) == ["deploy/one/inputs/task-1/image"]


@pytest.mark.services
def test_a_missing_key_is_blob_not_found(store: S3BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        store.get("inputs/never/image")
    assert not store.exists("inputs/never/image")


@pytest.mark.services
def test_a_missing_bucket_is_a_store_error_not_a_missing_key(client: Any) -> None:
    store = S3BlobStore(S3Location("canvasfill-test-no-such-bucket"), client)
    with pytest.raises(BlobStoreError, match="gone"):
        store.get("inputs/t/image")
    with pytest.raises(BlobStoreError):
        store.put("inputs/t/image", b"x")
    assert not store.ready()


@pytest.mark.services
def test_keys_are_checked_before_they_reach_the_bucket(store: S3BlobStore) -> None:
    with pytest.raises(ValueError, match="blob key"):
        store.put("../outside", b"x")


@pytest.mark.slow
@pytest.mark.services
def test_delete_prefix_takes_a_whole_folder_and_nothing_beside_it(
    store: S3BlobStore, client: Any, bucket: str
) -> None:
    # more objects than one listing page holds, so the delete has to page
    for index in range(1003):
        client.put_object(Bucket=bucket, Key=f"deploy/one/results/t1/{index}.png", Body=b"")
    store.put("results/t10/0.png", b"neighbour")  # shares the prefix text, not the folder
    store.put("inputs/t1/image", b"input")
    store.delete_prefix("results/t1")
    assert s3_keys(client, bucket) == [
        "deploy/one/inputs/t1/image",
        "deploy/one/results/t10/0.png",
    ]
    store.delete_prefix("results/never-there")


@pytest.mark.services
def test_ready_writes_a_probe(store: S3BlobStore, client: Any, bucket: str) -> None:
    assert store.ready()
    assert s3_keys(client, bucket) == ["deploy/one/_canvasfill/ready"]


@pytest.mark.services
def test_not_ready_when_the_store_does_not_answer(bucket: str) -> None:
    dead = make_client(f"http://127.0.0.1:{free_port()}", "us-east-1", retries=1)
    assert not S3BlobStore(S3Location(bucket), dead).ready()
    with pytest.raises(BlobStoreError):
        S3BlobStore(S3Location(bucket), dead).get("inputs/t/image")


@pytest.mark.services
def test_not_ready_with_wrong_keys(bucket: str) -> None:
    import boto3

    wrong = boto3.client(
        "s3",
        endpoint_url=S3_ENDPOINT,
        aws_access_key_id="canvasfill-test",
        aws_secret_access_key="not-the-secret",
        region_name="us-east-1",
    )
    assert not S3BlobStore(S3Location(bucket), wrong).ready()


@pytest.mark.services
def test_presigned_url_fetches_without_credentials_and_names_the_store(
    store: S3BlobStore, bucket: str
) -> None:
    key = result_key("t", 0, "png")
    store.put(key, b"\x89PNG result")
    url = store.url(key, datetime.now(UTC) + timedelta(minutes=5), "http://api.example")
    assert url.startswith(f"{S3_ENDPOINT}/{bucket}/deploy/one/results/t/0.png?")
    assert "api.example" not in url
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"\x89PNG result"
    assert response.headers["content-type"] == "image/png"
    # the signature is checked: no URL for another key, no bare access
    assert httpx.get(url.replace("/0.png?", "/1.png?")).status_code == 403
    assert httpx.get(url.split("?")[0]).status_code == 403


@pytest.mark.services
def test_presign_lifetime_follows_expiry_clamped_to_seven_days(store: S3BlobStore) -> None:
    def lifetime(expires_at: datetime) -> int:
        query = httpx.URL(store.url("results/t/0.png", expires_at, "")).params
        return int(query["X-Amz-Expires"])

    now = datetime.now(UTC)
    assert 595 <= lifetime(now + timedelta(minutes=10)) <= 600
    assert lifetime(now + timedelta(days=30)) == PRESIGN_MAX_S
    assert lifetime(now - timedelta(minutes=1)) == 1


@pytest.mark.slow
@pytest.mark.services
def test_presigned_url_stops_working_after_its_expiry(store: S3BlobStore) -> None:
    store.put("results/t/0.png", b"soon gone")
    url = store.url("results/t/0.png", datetime.now(UTC) + timedelta(seconds=2), "")
    assert httpx.get(url).status_code == 200
    expired = wait_until(lambda: httpx.get(url).status_code == 403, timeout=10, interval=0.5)
    assert expired
    assert "expired" in httpx.get(url).text.lower()


@pytest.mark.services
def test_prepare_creates_the_bucket_and_sets_a_lifecycle_rule(client: Any) -> None:
    name = f"canvasfill-test-prepare-{int(time.time() * 1000)}"
    store = S3BlobStore(S3Location(name, "cf"), client)
    try:
        store.prepare(expire_after_days=2)
        store.prepare(expire_after_days=2)  # again, as every API start does
        rules = client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        assert rules == [
            {
                "ID": f"{LIFECYCLE_RULE_PREFIX}:cf",
                "Status": "Enabled",
                "Filter": {"Prefix": "cf/"},
                "Expiration": {"Days": 2},
            }
        ]
    finally:
        client.delete_bucket(Bucket=name)


@pytest.mark.services
def test_prepare_keeps_the_buckets_other_rules(bucket: str, client: Any) -> None:
    other = {
        "ID": "someone-else",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Expiration": {"Days": 30},
    }
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [other]}
    )
    S3BlobStore(S3Location(bucket, "cf"), client).prepare(expire_after_days=3)
    rules = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert sorted(rule["ID"] for rule in rules) == [f"{LIFECYCLE_RULE_PREFIX}:cf", "someone-else"]


def test_lifecycle_keeps_a_day_in_hand_beyond_the_ttl() -> None:
    assert lifecycle_days(3600) == 2
    assert lifecycle_days(86400) == 2
    assert lifecycle_days(86401) == 3


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://bucket-1", S3Location("bucket-1", "")),
        ("s3://bucket-1/", S3Location("bucket-1", "")),
        ("s3://my.bucket/canvas/fill/", S3Location("my.bucket", "canvas/fill")),
        ("S3://abc/p", S3Location("abc", "p")),
    ],
)
def test_blob_urls_parse(url: str, location: S3Location) -> None:
    assert parse_s3_url(url) == location


@pytest.mark.parametrize(
    "url",
    [
        "bucket/prefix",
        "gs://bucket/prefix",
        "s3://",
        "s3://ab",
        "s3://Upper",
        "s3://under_score",
        "s3://-dash",
        "s3://a..b",
        "s3://192.168.1.1",
        "s3://xn--bucket",
        f"s3://{'a' * 64}",
        "s3://bucket/../up",
        "s3://bucket/a//b",
        "s3://bucket/p?x=1",
    ],
)
def test_malformed_blob_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(BlobUrlError, match=r"blob URL|bucket name"):
        parse_s3_url(url)


@pytest.mark.slow
def test_the_embedded_default_never_imports_boto3(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from canvasfill.api.app import create_app\n"
        "from canvasfill.settings import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}))\n"
        "assert not {'boto3', 'botocore'} & set(sys.modules), 'boto3 was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_no_blob_url_is_the_local_folder(tmp_path: Path) -> None:
    store = open_blob_store(None, local_root=tmp_path, signer=UrlSigner(SECRET))
    assert isinstance(store, LocalBlobStore)


@pytest.mark.services
def test_an_s3_blob_url_opens_the_bucket_with_the_standard_aws_variables(
    tmp_path: Path, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_env().items():
        monkeypatch.setenv(name, value)
    store = open_blob_store(
        f"s3://{bucket}/cf",
        local_root=tmp_path,
        signer=UrlSigner(SECRET),
        s3_endpoint_url=S3_ENDPOINT,
        s3_public_url="http://files.example:9000",
        prepare=True,
    )
    assert isinstance(store, S3BlobStore)
    store.put("results/t/0.png", b"x")
    assert store.get("results/t/0.png") == b"x"
    # users are handed the public address, signed for it
    url = store.url("results/t/0.png", datetime.now(UTC) + timedelta(minutes=1), "")
    assert url.startswith(f"http://files.example:9000/{bucket}/cf/results/t/0.png?")
