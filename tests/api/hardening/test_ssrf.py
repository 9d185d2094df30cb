"""Item 5: IPv6 forms that embed a private IPv4 address, site-local IPv6, DNS rebinding."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from service_testkit import Loopback, loopback, respond

from canvasfill.errors import ErrorCode, FetchError
from canvasfill.jobs.fetch import AddressPolicy, fetch_url

PUBLIC_ONLY = AddressPolicy([])


@pytest.mark.parametrize(
    "host",
    [
        "[::7f00:1]",  # IPv4-compatible 127.0.0.1
        "[::ffff:7f00:1]",  # IPv4-mapped 127.0.0.1
        "[::ffff:0:7f00:1]",  # IPv4-translated (SIIT) 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254 (cloud metadata)
        "[64:ff9b:1::a9fe:a9fe]",  # local-use NAT64
        "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
        "[fec0::1]",  # site-local
        "[fc00::1]",  # unique local
        "[fe80::1]",  # link-local
    ],
)
def test_ipv6_forms_of_private_addresses_are_refused(host: str) -> None:
    with pytest.raises(FetchError) as caught:
        PUBLIC_ONLY.check(f"http://{host}/a.png", "image_url")
    assert caught.value.code is ErrorCode.URL_NOT_ALLOWED


@pytest.mark.parametrize("host", ["[2606:4700::1111]", "1.1.1.1", "[64:ff9b::101:101]"])
def test_public_addresses_pass(host: str) -> None:
    PUBLIC_ONLY.check(f"http://{host}/a.png", "image_url")


def _hit(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 200, b"secret")


@pytest.fixture
def internal() -> Iterator[Loopback]:
    with loopback({"/secret": _hit}) as server:
        yield server


def test_the_address_checked_is_the_address_connected_to(
    internal: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolves to a public address when checked, then to loopback (DNS
    rebinding), must not reach loopback: the checked address is the one used."""
    real = socket.getaddrinfo
    answers = {"rebind.example": iter(["203.0.113.7", "127.0.0.1", "127.0.0.1"])}
    port = int(internal.base_url.rsplit(":", 1)[1])

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            address = next(answers[host])
            if address == "203.0.113.7":
                address = "1.1.1.1"  # public in the checker's eyes
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(FetchError) as caught:
        fetch_url(
            f"http://rebind.example:{port}/secret",
            field="image_url",
            max_bytes=10_000,
            timeout=1.0,
            max_redirects=0,
            policy=PUBLIC_ONLY,
        )
    assert caught.value.code in (ErrorCode.DOWNLOAD_FAILED, ErrorCode.DOWNLOAD_TIMEOUT)
    assert internal.hits("/secret") == []


def test_a_pinned_fetch_still_sends_the_host_name(internal: Loopback) -> None:
    port = int(internal.base_url.rsplit(":", 1)[1])
    data = fetch_url(
        f"http://localhost:{port}/secret",
        field="image_url",
        max_bytes=10_000,
        timeout=2.0,
        max_redirects=0,
        policy=AddressPolicy(["127.0.0.1/32", "::1/128"]),
    )
    assert data == b"secret"
    assert internal.hits("/secret")[0].headers["host"] == f"localhost:{port}"
