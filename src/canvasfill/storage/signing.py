"""HMAC-signed, expiring URLs for blobs the API serves itself.

The signature covers the blob key and the expiry time, so a URL can be neither pointed
at another blob nor kept alive longer; nothing under ``/files`` is served without one.
"""

from __future__ import annotations

import hashlib
import hmac
import time


class UrlSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the URL-signing secret must be at least 16 bytes")
        self._secret = secret

    def signature(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def matches(self, key: str, expires: int, signature: str) -> bool:
        """True when ``signature`` is ours for (key, expires), whether expired or not."""
        return hmac.compare_digest(self.signature(key, expires), signature)

    def verify(self, key: str, expires: int, signature: str, now: float | None = None) -> bool:
        """True when ``signature`` is ours for (key, expires) and ``expires`` is still ahead."""
        if expires <= (time.time() if now is None else now):
            return False
        return self.matches(key, expires, signature)
