"""The interface every blob store implements, and the keys blobs are stored under.

Keys are plain relative paths (``inputs/<task>/image``), so a folder and an S3 bucket
can hold the same layout. A store also hands out URLs for results: a local store signs
URLs the API serves itself; an S3 store returns presigned bucket URLs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*$")


class BlobNotFoundError(KeyError):
    """No blob is stored under that key (never stored, deleted or expired)."""


class BlobStoreError(OSError):
    """The store could not do what was asked (unreachable, refused, misconfigured)."""


def check_key(key: str) -> str:
    """Refuse keys that could leave the store (``..``, absolute paths, odd characters)."""
    if not _KEY.match(key) or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"not a valid blob key: {key!r}")
    return key


def input_key(task_id: str, name: str) -> str:
    return check_key(f"inputs/{task_id}/{name}")


def result_key(task_id: str, index: int, extension: str, variant: str = "") -> str:
    """Where result ``index`` is kept; ``variant`` names a derived copy (``watermark``)."""
    suffix = f"-{variant}" if variant else ""
    return check_key(f"results/{task_id}/{index}{suffix}.{extension}")


def task_prefixes(task_id: str) -> tuple[str, str]:
    return f"inputs/{task_id}", f"results/{task_id}"


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically, replacing what was there."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises ``BlobNotFoundError``."""

    def exists(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> None:
        """Delete every blob under ``prefix`` (a task's folder); missing is fine."""

    def url(self, key: str, expires_at: datetime, base_url: str) -> str:
        """A URL that fetches ``key`` until ``expires_at`` and not after."""

    def ready(self) -> bool:
        """Whether the store can take writes now (for ``/readyz``)."""
