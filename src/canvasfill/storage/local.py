"""Blobs in a local folder, served by the API under ``/files/<key>`` with signed URLs."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from canvasfill.storage.base import BlobNotFoundError, check_key
from canvasfill.storage.signing import UrlSigner

FILES_PATH = "/files"


class LocalBlobStore:
    def __init__(self, root: Path, signer: UrlSigner) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.signer = signer

    def path(self, key: str) -> Path:
        """The file for ``key``; the key is checked so the path stays under the root."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"not a valid blob key: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # write aside and rename, so a reader never sees half a file
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete_prefix(self, prefix: str) -> None:
        path = self.path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def url(self, key: str, expires_at: datetime, base_url: str) -> str:
        expires = int(expires_at.timestamp())
        query = urlencode({"expires": expires, "signature": self.signer.signature(key, expires)})
        return f"{base_url.rstrip('/')}{FILES_PATH}/{quote(check_key(key))}?{query}"
