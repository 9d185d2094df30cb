"""Issue 26 item 7: ``/readyz`` answers within its deadline and names what is down.

A dependency that hangs (a frozen store, a stopped broker) makes its check false after
``ready_timeout_s``, not the whole probe hang; a check still hanging from an earlier
probe is not started again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_testkit import LiveService, live_service, service_settings, wait_until

from canvasfill.api.readiness import broker_ready

WARM_UP_S = "CANVASFILL_TEST_WARM_UP_S"
"""Read by the test engine ``sleepy``'s warm-up (``canvasfill_test_engines``)."""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    data: Path = tmp_path_factory.mktemp("readiness")
    with live_service(service_settings(data, ready_timeout_s=0.5)) as service:
        yield service


def test_a_hanging_store_makes_readyz_not_ready_within_the_deadline(
    live: LiveService, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    calls: list[float] = []

    def frozen() -> bool:
        calls.append(time.monotonic())
        release.wait(30)
        return True

    monkeypatch.setattr(live.runtime.blobs, "ready", frozen)
    try:
        with live.client(timeout=10) as client:
            for _ in range(3):
                began = time.monotonic()
                response = client.get("/readyz")
                assert time.monotonic() - began < 3
                assert response.status_code == 503, response.text
                body = response.json()
                assert body["checks"]["blobs"] is False
                assert body["checks"]["database"] is True
                assert body["timed_out"] == ["blobs"]
        assert len(calls) == 1  # the hanging check was not started again
    finally:
        release.set()
    with live.client() as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10)


@pytest.mark.services
def test_the_broker_check_pings_redis_within_its_deadline() -> None:
    assert broker_ready("redis://127.0.0.1:6379/0", timeout_s=2)
    with socket.socket() as frozen:  # listens, never accepts: a stopped broker
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(8)
        began = time.monotonic()
        assert not broker_ready(f"redis://127.0.0.1:{frozen.getsockname()[1]}/0", timeout_s=0.5)
        assert time.monotonic() - began < 3


def test_readyz_waits_for_a_worker_to_warm_its_engines_then_one_line_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 23: ready only once a first task would run at full speed, not queue behind
    the workers' warm-up (the JIT compiles of a fresh install)."""
    monkeypatch.setenv(WARM_UP_S, "3")  # the test engine ``sleepy`` warms up this long
    caplog.set_level(logging.INFO, logger="canvasfill.jobs.dispatch.embedded")
    settings = service_settings(tmp_path / "data")
    with live_service(settings, wait_ready=False) as server, server.client() as client:
        warming = client.get("/readyz")
        assert warming.status_code == 503, warming.text
        assert warming.json()["checks"] == {
            "database": True,
            "migrations": True,
            "blobs": True,
            "dispatcher": False,
        }
        assert client.get("/healthz").status_code == 200  # alive all along
        assert not _ready_lines(caplog)

        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=60)
        assert client.get("/readyz").json()["checks"]["dispatcher"] is True
        [line] = _ready_lines(caplog)
        assert "ready to take work at full speed" in line


def _ready_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if getattr(record, "event", None) == "workers_ready"
    ]
