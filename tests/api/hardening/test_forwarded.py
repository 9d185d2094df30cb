"""Item 7: result URLs from the request's host, and a trusted proxy's forwarded headers."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.api.dialects.live import Live, live_app
from tests.api.hardening.conftest import PHOTO_PNG

BODY = {"image": base64.b64encode(PHOTO_PNG).decode(), "pixels": {"left": 8}}


def _result_url(live: Live, headers: dict[str, str]) -> str:
    response = live.client.post(
        "/v1/expand",
        headers={"Authorization": f"Bearer {live.key}", "Prefer": "wait=30"} | headers,
        json=BODY,
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["results"][0]["url"]
    return url


def test_the_requests_host_is_used(live: Live) -> None:
    url = _result_url(live, {"Host": "fill.example.com:8080"})
    assert url.startswith("http://fill.example.com:8080/files/")


def test_x_forwarded_headers_from_a_trusted_proxy(live: Live) -> None:
    headers = {
        "X-Forwarded-Host": "fill.example.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
    }
    url = _result_url(live, headers)
    assert url.startswith("https://fill.example.com/files/")
    # and the link works through that front: only the base differs
    path = url.removeprefix("https://fill.example.com")
    assert live.client.get(path).status_code == 200


def test_forwarded_header_from_a_trusted_proxy(live: Live) -> None:
    headers = {"Forwarded": 'for="[2001:db8::1]";proto=https;host=fwd.example:8443'}
    assert _result_url(live, headers).startswith("https://fwd.example:8443/files/")


def test_a_forwarded_host_that_is_not_a_host_is_ignored(live: Live) -> None:
    url = _result_url(live, {"X-Forwarded-Host": "evil.example/steal?x="})
    assert url.startswith(live.server.base_url + "/files/")


@pytest.fixture(scope="module")
def untrusting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("proxy"), forwarded_allow_ips=["10.0.0.0/8"])


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(untrusting: Live) -> None:
    headers = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "Forwarded": "proto=https;host=evil.example",
    }
    url = _result_url(untrusting, headers)
    assert url.startswith(untrusting.server.base_url + "/files/")
