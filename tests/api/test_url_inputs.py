"""``image_url`` inputs fetched from a loopback server (allow-listed for the tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from service_testkit import LiveService, Loopback, image_size, loopback, png, respond

PHOTO = png(72, 48, seed=5)


def ok(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 200, PHOTO, {"content-type": "image/png"})


def too_big(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 200, b"", {"content-length": str(60 * 1024 * 1024)})


def slow(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    time.sleep(3)
    respond(handler, 200, PHOTO)


def loop(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 302, headers={"location": "/loop"})


def hop(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 301, headers={"location": "/ok.png"})


def to_private(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 302, headers={"location": "http://10.20.30.40/secret.png"})


@pytest.fixture(scope="module")
def origin() -> Iterator[Loopback]:
    routes = {
        "/ok.png": ok,
        "/big.png": too_big,
        "/slow.png": slow,
        "/loop": loop,
        "/hop": hop,
        "/to-private": to_private,
    }
    with loopback(routes) as server:
        yield server


def run(live: LiveService, key: str, url: str) -> dict[str, object]:
    with live.client(key) as client:
        response = client.post(
            "/v1/expand",
            json={"image_url": url, "ratios": {"left": 0.5}, "engine": "telea"},
            headers={"Prefer": "wait=30"},
        )
    assert response.status_code == 200, response.text
    task: dict[str, object] = response.json()
    return task


@pytest.mark.slow
def test_an_image_url_is_fetched_and_expanded(live: LiveService, origin: Loopback) -> None:
    task = run(live, live.new_key(), origin.url("/ok.png"))
    assert task["status"] == "succeeded"
    assert task["results"][0]["width"] == 108  # type: ignore[index]
    assert len(origin.hits("/ok.png")) >= 1


def test_a_redirect_within_the_limit_is_followed(live: LiveService, origin: Loopback) -> None:
    assert run(live, live.new_key(), origin.url("/hop"))["status"] == "succeeded"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/missing.png", "download_failed"),
        ("/big.png", "download_too_large"),
        ("/slow.png", "download_timeout"),
        ("/loop", "download_too_many_redirects"),
        ("/to-private", "url_not_allowed"),
    ],
)
def test_a_failed_download_fails_the_task_with_its_own_code(
    live: LiveService, origin: Loopback, path: str, code: str
) -> None:
    task = run(live, live.new_key(), origin.url(path))
    assert task["status"] == "failed"
    error = task["error"]
    assert isinstance(error, dict)
    assert error["code"] == code
    assert error["field"] == "image_url"
    assert error["message"]


def test_the_redirect_loop_stops_after_three_hops(live: LiveService, origin: Loopback) -> None:
    before = len(origin.hits("/loop"))
    run(live, live.new_key(), origin.url("/loop"))
    assert len(origin.hits("/loop")) - before == 4  # the first request and three redirects


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data", "http://10.0.0.8/a.png", "http://[::1]:9/a.png"],
)
def test_private_addresses_are_refused(live: LiveService, url: str) -> None:
    task = run(live, live.new_key(), url)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "url_not_allowed"  # type: ignore[index]


def test_long_urls_are_refused_at_once(live: LiveService, origin: Loopback) -> None:
    with live.client(live.new_key()) as client:
        response = client.post(
            "/v1/expand",
            json={"image_url": origin.url("/ok.png?" + "a" * 600), "ratios": {"left": 0.5}},
        )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "image_url"


def test_the_result_matches_the_downloaded_image(live: LiveService, origin: Loopback) -> None:
    import httpx

    task = run(live, live.new_key(), origin.url("/ok.png"))
    result = httpx.get(task["results"][0]["url"])  # type: ignore[index]
    assert image_size(result.content) == (108, 48)
