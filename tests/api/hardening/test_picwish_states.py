"""Item 6: every refused or failed download is PicWish state -3 (source download failed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from service_testkit import Loopback, loopback, respond

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PICWISH_EXPAND


def _slow(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    time.sleep(3)
    respond(handler, 200, b"late")


def _huge(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 200, b"\0" * (6 * 2**20), {"content-type": "image/png"})


def _loop(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 302, headers={"location": "/loop"})


@pytest.fixture(scope="module")
def web() -> Iterator[Loopback]:
    with loopback({"/slow": _slow, "/huge": _huge, "/loop": _loop}) as server:
        yield server


@pytest.mark.parametrize(
    ("where", "code"),
    [
        ("http://10.255.255.1/a.png", "url_not_allowed"),
        ("/slow", "download_timeout"),
        ("/huge", "download_too_large"),
        ("/loop", "download_too_many_redirects"),
        ("http://127.0.0.1:9/none.png", "download_failed"),
    ],
)
def test_download_failures_are_state_minus_3(
    live: Live, web: Loopback, where: str, code: str
) -> None:
    key, _ = live.new_key()
    url = web.url(where) if where.startswith("/") else where
    created = live.client.post(PICWISH_EXPAND, headers={"X-API-KEY": key}, data={"image_url": url})
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]
    task = live.server.wait_for_task(task_id, "failed", timeout=30)
    assert task.error_code == code
    answer = live.client.get(f"{PICWISH_EXPAND}/{task_id}", headers={"X-API-KEY": key})
    data = answer.json()["data"]
    assert data["state"] == -3, data
    assert data["state_detail"].startswith("source image download failed")
