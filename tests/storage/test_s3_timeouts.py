"""Issue 26 item 7: a frozen S3 store (it accepts connections, answers nothing) is given
up on within the configured timeouts, not after boto3's 60 s read timeout, three times."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from service_testkit import s3_env, service_settings

from canvasfill.jobs.runtime import build_runtime


@contextmanager
def frozen_server() -> Iterator[str]:
    """A socket that listens and never accepts: the kernel completes each handshake, and
    nothing ever answers (as a process stopped with SIGSTOP)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.slow  # waits out the timeouts
def test_a_frozen_store_is_given_up_on_within_the_timeouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_env().items():  # keys, so boto3 gets as far as asking
        monkeypatch.setenv(name, value)
    with frozen_server() as endpoint:
        settings = service_settings(
            tmp_path / "data",
            blob_url="s3://frozen-bucket/x",
            s3_endpoint_url=endpoint,
            s3_connect_timeout_s=0.5,
            s3_read_timeout_s=0.5,
            s3_max_attempts=2,
        )
        runtime = build_runtime(settings)  # no prepare: that would ask the store
        outcome: list[bool] = []
        probe = threading.Thread(target=lambda: outcome.append(runtime.blobs.ready()), daemon=True)
        began = time.monotonic()
        probe.start()
        probe.join(timeout=10)
        seconds = time.monotonic() - began
        runtime.close()
    assert outcome == [False], f"no answer within {seconds:.1f} s"
    assert seconds < 8  # two attempts of 0.5 s, backoff and a busy CPU; it was 3 x 60 s
