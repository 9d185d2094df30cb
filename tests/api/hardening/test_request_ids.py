"""Issue 26 item 8: every response, a 500 included, carries its own request id.

A route that raises is added to a real app served by uvicorn on loopback; the requests
go over one keep-alive connection, as a client's pool sends them.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_testkit import LiveService, live_service, service_settings

from canvasfill.jobs.logs import JsonFormatter

BOOM_NATIVE = "/v1/test-only/boom"
BOOM_KLING = "/v1/images/editing/test-only/boom"  # Kling's namespace: request_id in body


def _boom() -> None:
    raise RuntimeError("a bug, raised on purpose by the test")


class _Lines(logging.Handler):
    """Formats at emit time, where the request's context variables are still set."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    data: Path = tmp_path_factory.mktemp("request-ids")
    with live_service(service_settings(data)) as service:
        for path in (BOOM_NATIVE, BOOM_KLING):
            service.app.add_api_route(path, _boom, methods=["GET"])
        yield service


@pytest.fixture
def lines() -> Iterator[list[dict[str, object]]]:
    handler = _Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _get(
    connection: http.client.HTTPConnection, path: str, rid: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection.request("GET", path, headers={"x-request-id": rid} if rid else {})
    response = connection.getresponse()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.mark.parametrize("path", [BOOM_NATIVE, BOOM_KLING])
def test_a_500_on_a_keep_alive_connection_has_its_own_request_id(
    live: LiveService, lines: list[dict[str, object]], path: str
) -> None:
    port = int(live.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        status, headers, _ = _get(connection, "/healthz", "before-1")
        assert status == 200
        assert headers["x-request-id"] == "before-1"
        sock = connection.sock

        status, headers, body = _get(connection, path, "boom-2")
        assert status == 500, body
        assert headers.get("x-request-id") == "boom-2"
        if path == BOOM_KLING:
            assert json.loads(body)["request_id"] == "boom-2"
        assert headers.get("connection", "keep-alive").lower() != "close"

        status, headers, _ = _get(connection, "/healthz")  # a made-up id this time
        assert status == 200
        assert connection.sock is sock, "the connection was closed after the 500"
        made = headers["x-request-id"]
        assert made not in ("before-1", "boom-2")
    finally:
        connection.close()

    requests = [line for line in lines if line.get("event") == "request"]
    assert [(line.get("request_id"), line.get("status")) for line in requests] == [
        ("before-1", 200),
        ("boom-2", 500),
        (made, 200),
    ]
    errors = [line for line in lines if line.get("level") == "error"]
    assert errors
    assert errors[0].get("request_id") == "boom-2"
    assert "a bug, raised on purpose" in str(errors[0].get("exception"))


def test_a_made_up_id_is_replaced_and_an_error_body_echoes_it(live: LiveService) -> None:
    with live.client() as client:
        response = client.get(BOOM_KLING, headers={"x-request-id": "not ok!"})
    assert response.status_code == 500
    rid = response.headers["x-request-id"]
    assert rid != "not ok!"
    assert response.json()["request_id"] == rid


def test_a_native_error_body_carries_the_request_id(live: LiveService) -> None:
    """Issue 26 item 8: header and body, the native envelope included."""
    with live.client(live.new_key()) as client:
        answer = client.get("/v1/tasks/no-such-task", headers={"x-request-id": "native-1"})
        unknown = client.get("/v1/nothing-here", headers={"x-request-id": "native-2"})
    assert answer.status_code == 404
    assert answer.headers["x-request-id"] == "native-1"
    assert answer.json()["request_id"] == "native-1"
    assert unknown.status_code == 404
    assert unknown.json()["request_id"] == "native-2"
