"""Blobs in an S3-compatible bucket, fetched by presigned URLs the bucket serves itself.

Every node (API and worker) reaches the same bucket, so nothing is kept on local disk
and the API never passes result bytes through: ``url()`` hands out a presigned GET URL
that stops working at the task's expiry. boto3 is imported only when a store is made,
so the embedded default (a local folder) needs none of it (``pip install canvasfill[s3]``).

Credentials and region come the standard way (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, or whatever boto3 finds: profiles, roles).
An ``endpoint_url`` points at a non-AWS store (SeaweedFS, MinIO, Ceph, R2...).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import mimetypes
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from canvasfill.storage.base import BlobNotFoundError, BlobStoreError, check_key

log = logging.getLogger(__name__)

PRESIGN_MAX_S = 7 * 24 * 3600
"""The longest a SigV4 presigned URL may live (S3 refuses longer ones)."""
LIFECYCLE_RULE_PREFIX = "canvasfill-expiry"
READY_KEY = "_canvasfill/ready"
"""Written by ``ready()``; outside ``inputs/`` and ``results/``, so no task's blob."""

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_NOT_IMPLEMENTED = frozenset({"501", "NotImplemented"})


class BlobUrlError(ValueError):
    """``CANVASFILL_BLOB_URL`` is not ``s3://bucket[/prefix]`` with a valid bucket name."""


@dataclass(frozen=True)
class S3Location:
    """A bucket and the key prefix (no slashes at either end) this service keeps under."""

    bucket: str
    prefix: str = ""

    def key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def check_bucket_name(name: str) -> str:
    """Refuse names S3 refuses: 3-63 of ``a-z0-9.-``, letter or digit at the ends, no
    ``..``, not an IP address."""
    problem = None
    if not _BUCKET.match(name):
        problem = (
            "3 to 63 lowercase letters, digits, dots or hyphens, a letter or digit at each end"
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "no two dots, or a dot and a hyphen, side by side"
    elif _is_ip_address(name):
        problem = "not an IP address"
    elif name.startswith(("xn--", "sthree-")) or name.endswith("-s3alias"):
        problem = "no reserved prefix (xn--, sthree-) or suffix (-s3alias)"
    if problem:
        raise BlobUrlError(f"{name!r} is not a valid S3 bucket name: {problem}")
    return name


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def parse_s3_url(url: str) -> S3Location:
    """``s3://bucket/some/prefix`` → ``S3Location("bucket", "some/prefix")``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "s3":
        raise BlobUrlError(f"the blob URL must look like s3://bucket/prefix, not {url!r}")
    if "?" in rest or "#" in rest:
        raise BlobUrlError(f"the blob URL takes no query or fragment: {url!r}")
    bucket, _, prefix = rest.partition("/")
    try:
        check_bucket_name(bucket)
    except BlobUrlError as exc:
        raise BlobUrlError(f"the blob URL {url!r} names no valid bucket: {exc}") from None
    prefix = prefix.strip("/")
    if prefix:
        try:
            check_key(prefix)
        except ValueError:
            raise BlobUrlError(
                f"the prefix {prefix!r} in the blob URL is not a plain path "
                "(letters, digits, _ - . between slashes)"
            ) from None
    return S3Location(bucket, prefix)


def lifecycle_days(result_ttl_s: float) -> int:
    """Whole days after which the bucket may delete a blob on its own.

    A backstop behind the sweeper, counted from the blob's upload (inputs are written at
    acceptance, before the task runs), so it keeps a day in hand beyond the result TTL.
    """
    return math.ceil(result_ttl_s / 86400) + 1


def make_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    retries: int = 3,
    connect_timeout_s: float = 5,
    read_timeout_s: float = 60,
) -> Any:
    """A boto3 S3 client (thread-safe; one per process) for AWS or the store at
    ``endpoint_url``. Region: the argument, else ``AWS_REGION``, else boto3's own lookup.

    A store that accepts connections and answers nothing (frozen, overloaded) holds a
    call for up to ``retries`` x ``read_timeout_s``: the service passes its settings."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise BlobStoreError("an s3:// blob URL needs boto3: pip install 'canvasfill[s3]'") from exc
    config = Config(
        signature_version="s3v4",
        # non-AWS stores rarely serve bucket subdomains; AWS picks its own style
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"mode": "standard", "max_attempts": retries},
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or os.environ.get("AWS_REGION") or None,
        config=config,
    )


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """The ``BlobStore`` protocol on one bucket under one prefix.

    ``client`` does the work; ``presigner`` (default: the same client) signs the URLs
    handed to users, for when they reach the store at another address than the service
    (a compose network: the service talks to ``http://seaweedfs:8333``, browsers to a
    public name). Signing needs no request, only the credentials.
    """

    def __init__(self, location: S3Location, client: Any, presigner: Any = None) -> None:
        self.location = location
        self.client = client
        self.presigner = presigner if presigner is not None else client

    @contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        """botocore's errors become ours: a missing key ``BlobNotFoundError``, anything
        else ``BlobStoreError`` (the one boundary where foreign errors are mapped)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = _error_code(exc)
            if code == "NoSuchBucket":
                raise BlobStoreError(f"the bucket {self.location.bucket!r} is gone") from exc
            if code in _MISSING:
                raise BlobNotFoundError(key) from None
            raise BlobStoreError(f"{self.location}: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreError(f"{self.location}: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        # one PUT: S3 shows the whole object or none of it, never half
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        with self._translated(key):
            self.client.put_object(
                Bucket=self.location.bucket,
                Key=self.location.key(check_key(key)),
                Body=data,
                ContentType=content_type,
            )

    def get(self, key: str) -> bytes:
        with self._translated(key):
            response = self.client.get_object(
                Bucket=self.location.bucket, Key=self.location.key(check_key(key))
            )
            body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            with self._translated(key):
                self.client.head_object(
                    Bucket=self.location.bucket, Key=self.location.key(check_key(key))
                )
        except BlobNotFoundError:
            return False
        return True

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under ``prefix/`` (listed page by page, deleted 1000 at a
        time, the most one request takes). ``inputs/t1`` never touches ``inputs/t10``."""
        folder = self.location.key(check_key(prefix)) + "/"
        with self._translated(prefix):
            keys = [
                item["Key"]
                for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.location.bucket, Prefix=folder
                )
                for item in page.get("Contents", [])
            ]
            for start in range(0, len(keys), 1000):
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                response = self.client.delete_objects(
                    Bucket=self.location.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                if response.get("Errors"):
                    first = response["Errors"][0]
                    raise BlobStoreError(
                        f"{self.location}: could not delete {len(response['Errors'])} "
                        f"objects under {prefix!r} ({first.get('Code')}: {first.get('Message')})"
                    )

    def ready(self) -> bool:
        """The bucket answers and takes a small write (credentials that can only read, or
        a full or read-only store, are not ready)."""
        try:
            with self._translated(READY_KEY):
                self.client.put_object(
                    Bucket=self.location.bucket, Key=self.location.key(READY_KEY), Body=b"ok"
                )
        except (BlobStoreError, BlobNotFoundError) as exc:
            log.warning("blob store not ready: %s", exc, extra={"event": "blobs_not_ready"})
            return False
        return True

    def url(self, key: str, expires_at: datetime, base_url: str) -> str:
        """A presigned GET URL that expires at ``expires_at`` (at most 7 days ahead, S3's
        limit; at least one second). ``base_url`` is the API's and is not used."""
        seconds = math.ceil((expires_at - datetime.now(UTC)).total_seconds())
        with self._translated(key):
            url: str = self.presigner.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.location.bucket, "Key": self.location.key(check_key(key))},
                ExpiresIn=min(max(seconds, 1), PRESIGN_MAX_S),
            )
        return url

    def prepare(self, expire_after_days: int | None = None) -> None:
        """Once at start: create the bucket when missing, and ask it to expire this
        prefix's objects after ``expire_after_days`` (a backstop behind the sweeper).

        A store that does not implement lifecycle rules is told so in the log and used
        as it is; credentials that may not set one likewise.
        """
        self._ensure_bucket()
        if expire_after_days is not None:
            self._set_lifecycle(expire_after_days)

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket = self.location.bucket
        try:
            self.client.head_bucket(Bucket=bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _MISSING | {"NoSuchBucket"}:
                raise BlobStoreError(f"cannot reach the bucket {bucket!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreError(f"cannot reach the S3 store for {bucket!r}: {exc}") from exc
        region = self.client.meta.region_name
        options: dict[str, Any] = {"Bucket": bucket}
        if region and region not in ("us-east-1", "aws-global"):  # S3's default needs none
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**options)
        except ClientError as exc:
            if _error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise BlobStoreError(
                    f"the bucket {bucket!r} does not exist and could not be created: {exc}"
                ) from exc
        log.info("created bucket %s", bucket, extra={"event": "bucket_created"})

    def _set_lifecycle(self, days: int) -> None:
        """Add (or update) this prefix's expiry rule, keeping the bucket's other rules."""
        from botocore.exceptions import ClientError

        bucket = self.location.bucket
        rule_id = f"{LIFECYCLE_RULE_PREFIX}:{self.location.prefix or '*'}"[:255]
        rule = {
            "ID": rule_id,
            "Status": "Enabled",
            "Filter": {"Prefix": self.location.key("")},
            "Expiration": {"Days": days},
        }
        try:
            try:
                current = self.client.get_bucket_lifecycle_configuration(Bucket=bucket)
                rules = [r for r in current.get("Rules", []) if r.get("ID") != rule_id]
            except ClientError as exc:
                if _error_code(exc) != "NoSuchLifecycleConfiguration":
                    raise
                rules = []
            self.client.put_bucket_lifecycle_configuration(
                Bucket=bucket, LifecycleConfiguration={"Rules": [*rules, rule]}
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_IMPLEMENTED:
                log.info(
                    "the S3 store has no lifecycle rules; the sweeper alone expires blobs",
                    extra={"event": "lifecycle_unsupported", "bucket": bucket},
                )
            else:
                log.warning(
                    "could not set the bucket's lifecycle rule (%s); the sweeper alone "
                    "expires blobs",
                    _error_code(exc) or exc,
                    extra={"event": "lifecycle_not_set", "bucket": bucket},
                )
            return
        log.info(
            "bucket lifecycle: objects under %s expire after %d days",
            self.location,
            days,
            extra={"event": "lifecycle_set", "bucket": bucket, "days": days},
        )
