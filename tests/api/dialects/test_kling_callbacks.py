"""Kling callbacks: each status change POSTs the same ``data`` object a query returns."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from canvasfill.sample import sample_photo_png
from tests.api.dialects.live import Live, live_app


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("kling-cb"), url_allow=["127.0.0.1/32"])


@pytest.mark.slow
def test_callbacks_carry_the_query_data(live: Live, receiver: str) -> None:
    headers = {"Authorization": f"Bearer {live.kling_token()}"}
    body = {
        "image": base64.b64encode(sample_photo_png(400, 320)).decode(),
        "down_expansion_ratio": 0.2,
        "callback_url": receiver,
        "external_task_id": "cb-1",
    }
    created = live.client.post("/v1/images/editing/expand", headers=headers, json=body)
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(item.get("task_status") == "succeed" for item in _Receiver.bodies):
            break
        time.sleep(0.2)
    statuses = [item["task_status"] for item in _Receiver.bodies]
    assert statuses[-1] == "succeed"
    assert "processing" in statuses  # state changes are reported, not only the end
    final = _Receiver.bodies[-1]
    query = live.client.get(f"/v1/images/editing/expand/{task_id}", headers=headers).json()["data"]
    assert final == query
    assert final["task_info"] == {"external_task_id": "cb-1"}
