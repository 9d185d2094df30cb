"""URL fetching rules without the app: size cap while streaming, address policy, deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from service_testkit import Loopback, loopback

from canvasfill.errors import ErrorCode, FetchError, InputError
from canvasfill.jobs.fetch import AddressPolicy, check_url, fetch_url

LOOPBACK_ONLY = AddressPolicy(["127.0.0.1/32"])


def chunked(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    # no Content-Length: only counting the streamed bytes can stop this one
    handler.send_response(200)
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    for _ in range(64):
        handler.wfile.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


def trickle(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    handler.send_response(200)
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    for _ in range(20):
        handler.wfile.write(b"1\r\nx\r\n")
        handler.wfile.flush()
        time.sleep(0.2)
    handler.wfile.write(b"0\r\n\r\n")


def small(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    body = b"y" * 100
    handler.send_response(200)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="module")
def origin() -> Iterator[Loopback]:
    with loopback({"/chunked": chunked, "/trickle": trickle, "/small": small}) as server:
        yield server


def fetch(url: str, policy: AddressPolicy = LOOPBACK_ONLY, **options: float) -> bytes:
    return fetch_url(
        url,
        field="image_url",
        max_bytes=int(options.get("max_bytes", 10_000)),
        timeout=options.get("timeout", 2.0),
        max_redirects=3,
        policy=policy,
    )


def test_a_small_file_arrives_whole(origin: Loopback) -> None:
    assert fetch(origin.url("/small")) == b"y" * 100


def test_the_size_cap_holds_while_streaming(origin: Loopback) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(origin.url("/chunked"))
    assert caught.value.code == ErrorCode.DOWNLOAD_TOO_LARGE


def test_one_deadline_covers_a_trickling_download(origin: Loopback) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(origin.url("/trickle"), timeout=0.5)
    assert caught.value.code == ErrorCode.DOWNLOAD_TIMEOUT
    assert time.monotonic() - started < 3


def test_loopback_is_refused_unless_allow_listed(origin: Loopback) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(origin.url("/small"), policy=AddressPolicy([]))
    assert caught.value.code == ErrorCode.URL_NOT_ALLOWED
    assert fetch(origin.url("/small"), policy=AddressPolicy(["127.0.0.0/8"])) == b"y" * 100


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.1.1/",
        "http://192.168.0.4/",
        "http://172.16.0.1/",
        "http://169.254.169.254/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_and_special_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        AddressPolicy([]).check(url, "image_url")
    assert caught.value.code == ErrorCode.URL_NOT_ALLOWED


@pytest.mark.parametrize(
    "url", ["https://93.184.216.34/photo.jpg", "http://[2606:2800:220:1:248:1893:25c8:1946]/a.png"]
)
def test_public_addresses_pass_the_policy(url: str) -> None:
    assert str(AddressPolicy([]).check(url, "image_url")) in url  # allowed: the address to use


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x/", "/relative.png", "http://" + "a" * 600]
)
def test_urls_are_checked_before_any_network(url: str) -> None:
    with pytest.raises(InputError):
        check_url(url, 512, "image_url")
