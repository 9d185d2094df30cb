"""``CANVASFILL_BLOB_URL`` → a blob store: unset, a local folder; ``s3://bucket/prefix``, a bucket.

The one place the mode is chosen; everything above talks to ``base.BlobStore``. Plain
values in, so storage stays free of the settings type.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from canvasfill.storage.base import BlobStore
from canvasfill.storage.local import LocalBlobStore
from canvasfill.storage.s3 import S3BlobStore, lifecycle_days, make_client, parse_s3_url
from canvasfill.storage.signing import UrlSigner


@dataclass(frozen=True)
class S3Timeouts:
    """How long one S3 call may take: connecting, waiting for each answer, attempts."""

    connect_s: float = 5
    read_s: float = 60
    max_attempts: int = 3


def open_blob_store(
    blob_url: str | None,
    *,
    local_root: Path,
    signer: UrlSigner,
    s3_endpoint_url: str | None = None,
    s3_public_url: str | None = None,
    result_ttl_s: float = 3600,
    prepare: bool = False,
    s3_timeouts: S3Timeouts | None = None,
) -> BlobStore:
    """The store ``blob_url`` names; ``prepare`` (once per deployment start, by the API
    process) creates a missing bucket and sets its lifecycle rule.

    Raises ``s3.BlobUrlError`` for a malformed URL, ``base.BlobStoreError`` when
    ``prepare`` cannot reach or create the bucket.
    """
    if not blob_url:
        return LocalBlobStore(local_root, signer)
    location = parse_s3_url(blob_url)
    timeouts = s3_timeouts or S3Timeouts()
    client = make_client(
        s3_endpoint_url,
        retries=timeouts.max_attempts,
        connect_timeout_s=timeouts.connect_s,
        read_timeout_s=timeouts.read_s,
    )
    presigner = make_client(s3_public_url) if s3_public_url else None  # signs; never calls
    store = S3BlobStore(location, client, presigner)
    if prepare:
        store.prepare(lifecycle_days(result_ttl_s))
    return store
