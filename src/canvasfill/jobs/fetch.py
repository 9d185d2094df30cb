"""Fetching an input image from a URL the caller gave, without becoming their proxy.

Only http(s), at most ``max_length`` characters, at most ``max_redirects`` hops, a
size cap enforced while the body streams in, one deadline for the whole download, and
no private, loopback, link-local or otherwise non-public address unless the
``url_allow`` setting names it (IPv6 forms that carry an IPv4 address are judged by
that address). Every hop of a redirect is checked again, and the address checked is
the address connected to: the name is resolved once, and the request goes to that
address with the name in ``Host`` (and TLS SNI), so a second answer from DNS (DNS
rebinding) cannot send it elsewhere.
A failure is a ``FetchError`` with its own code: the task fails with it, no 500.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from canvasfill.errors import ErrorCode, FetchError, InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_url(url: str, max_length: int, field: str) -> str:
    """The checks that need no network, done when the request arrives (400 at once)."""
    if len(url) > max_length:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"{field} is {len(url)} characters long; at most {max_length} are accepted",
            field=field,
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            ErrorCode.INVALID_PARAMETER,
            f"{field} must be an absolute http:// or https:// URL",
            field=field,
        )
    return url


class AddressPolicy:
    """Which hosts a download may reach: public addresses, plus what the allow-list names."""

    def __init__(self, allow: Sequence[str]) -> None:
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._hosts: set[str] = set()
        for entry in allow:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower())

    def check(self, url: str, field: str) -> IPAddress:
        """The address to connect to for ``url`` (its host resolved once), if allowed.

        Every address the name resolves to must be allowed; the first is the one used.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError(
                ErrorCode.URL_NOT_ALLOWED, f"{field} led to {url!r}, which is not http(s)", field
            )
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(
                ErrorCode.URL_NOT_ALLOWED, f"{field} led to {url!r}, whose port is invalid", field
            ) from None
        addresses = _addresses(host, port, field)
        if host in self._hosts:
            return addresses[0]
        for address in addresses:
            if _public(address) or any(address in net for net in self._networks):
                continue
            raise FetchError(
                ErrorCode.URL_NOT_ALLOWED,
                f"{field} points at {host} ({address}), a private, loopback or link-local "
                "address; only public addresses are fetched",
                field,
            )
        return addresses[0]

    def pinned(self, url: str, field: str) -> PinnedRequest:
        """``url`` checked, and rewritten to go to the checked address (see the module)."""
        address = self.check(url, field)
        original = httpx.URL(url)
        extensions = {"sni_hostname": original.raw_host.decode("ascii")}
        return PinnedRequest(
            url=original.copy_with(host=str(address)),
            headers={"Host": original.netloc.decode("ascii")},
            extensions=extensions if original.scheme == "https" else {},
        )


@dataclass(frozen=True)
class PinnedRequest:
    """Where to send a request so that it reaches the address that was checked."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]


def _addresses(host: str, port: int, field: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(
            ErrorCode.DOWNLOAD_FAILED, f"the host {host!r} could not be resolved ({exc})", field
        ) from None
    # scoped IPv6 answers ("fe80::1%eth0") carry their zone after a %
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise FetchError(ErrorCode.DOWNLOAD_FAILED, f"the host {host!r} has no address", field)
    return addresses


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix: the last 32 bits are the IPv4 address reached."""
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
"""Local-use NAT64 (RFC 8215): it reaches the operator's own IPv4 networks."""
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, translated, NAT64,
    6to4, Teredo), which is where a request to it ends up."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in (_NAT64, _IPV4_COMPATIBLE, _IPV4_TRANSLATED)):
        return ipaddress.IPv4Address(address.packed[-4:])
    return None


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL or address.is_site_local:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _public(embedded)
    return address.is_global and not address.is_multicast


def fetch_url(
    url: str,
    *,
    field: str,
    max_bytes: int,
    timeout: float,
    max_redirects: int,
    policy: AddressPolicy,
) -> bytes:
    """Download ``url`` under every rule above; raises ``FetchError``."""
    deadline = time.monotonic() + timeout
    client_timeout = httpx.Timeout(timeout)
    with httpx.Client(timeout=client_timeout, follow_redirects=False, trust_env=False) as client:
        current = url
        for _hop in range(max_redirects + 1):
            pinned = policy.pinned(current, field)
            try:
                with client.stream(
                    "GET", pinned.url, headers=pinned.headers, extensions=pinned.extensions
                ) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        current = urljoin(current, location)
                        continue
                    if response.status_code != 200:
                        raise FetchError(
                            ErrorCode.DOWNLOAD_FAILED,
                            f"downloading {field} failed: the server answered HTTP "
                            f"{response.status_code}",
                            field,
                        )
                    return _read_capped(response, field, max_bytes, deadline)
            except httpx.TimeoutException:
                raise _timeout(field, timeout) from None
            except httpx.HTTPError as exc:
                raise FetchError(
                    ErrorCode.DOWNLOAD_FAILED, f"downloading {field} failed: {exc}", field
                ) from None
    raise FetchError(
        ErrorCode.DOWNLOAD_TOO_MANY_REDIRECTS,
        f"{field} redirected more than {max_redirects} times; give the final URL",
        field,
    )


def _read_capped(response: httpx.Response, field: str, max_bytes: int, deadline: float) -> bytes:
    too_large = FetchError(
        ErrorCode.DOWNLOAD_TOO_LARGE,
        f"the file at {field} is larger than {max_bytes:,} bytes; send a smaller image",
        field,
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise _timeout(field, None)
        chunks.append(chunk)
    return b"".join(chunks)


def _timeout(field: str, seconds: float | None) -> FetchError:
    limit = f" within {seconds:g} s" if seconds else " in time"
    return FetchError(
        ErrorCode.DOWNLOAD_TIMEOUT,
        f"the file at {field} did not arrive{limit}; try a faster host",
        field,
    )
