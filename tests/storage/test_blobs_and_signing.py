"""The local blob store and signed URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from canvasfill.storage.base import BlobNotFoundError, check_key, input_key, result_key
from canvasfill.storage.local import LocalBlobStore
from canvasfill.storage.signing import UrlSigner

SECRET = b"0123456789abcdef0123456789abcdef"


def test_put_get_replace_and_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, UrlSigner(SECRET))
    key = input_key("task-1", "image")
    store.put(key, b"first")
    store.put(key, b"second")
    assert store.get(key) == b"second"
    assert store.exists(key)
    assert list((tmp_path / "inputs" / "task-1").iterdir()) == [tmp_path / key]  # no temp left
    store.delete_prefix("inputs/task-1")
    assert not store.exists(key)
    with pytest.raises(BlobNotFoundError):
        store.get(key)
    store.delete_prefix("inputs/never-there")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "a/./b", "", "a b"])
def test_keys_cannot_leave_the_store(key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        check_key(key)


def test_result_keys_carry_the_extension() -> None:
    assert result_key("t", 2, "jpg") == "results/t/2.jpg"


def test_urls_are_signed_over_key_and_expiry(tmp_path: Path) -> None:
    signer = UrlSigner(SECRET)
    store = LocalBlobStore(tmp_path, signer)
    expires_at = datetime.now(UTC) + timedelta(minutes=5)
    url = store.url("results/t/0.png", expires_at, "https://fill.example/")
    parts = urlsplit(url)
    assert url.startswith("https://fill.example/files/results/t/0.png?")
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    expires = int(query["expires"])
    assert signer.verify("results/t/0.png", expires, query["signature"])
    assert not signer.verify("results/t/1.png", expires, query["signature"])
    assert not signer.verify("results/t/0.png", expires + 1, query["signature"])
    assert not signer.verify("results/t/0.png", expires, query["signature"], now=expires + 1)
    assert not UrlSigner(b"another secret of 32 bytes......").matches(
        "results/t/0.png", expires, query["signature"]
    )


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        UrlSigner(b"short")
