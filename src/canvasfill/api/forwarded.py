"""Requests that came through a proxy: believe its forwarded headers only if it is trusted.

Result URLs are built from the request (``request.base_url``): its scheme and its
``Host``. Behind a TLS front or a path-keeping proxy those are the proxy's upstream
address, so a trusted proxy's ``Forwarded`` (RFC 7239: ``proto=``, ``host=``, ``for=``)
or ``X-Forwarded-Proto``/``X-Forwarded-Host``/``X-Forwarded-For`` are applied to the
request here, before any route sees it. Trusted means the connecting peer's address is
in the ``forwarded_allow_ips`` setting (addresses or networks, ``"*"`` for all; default
loopback), as with uvicorn's ``--forwarded-allow-ips``; anyone else's forwarded headers
are ignored, so a client cannot point result URLs at a host of its choosing.

uvicorn has proxy handling of its own (``X-Forwarded-Proto``/``-For`` from
``FORWARDED_ALLOW_IPS``), which would replace the peer's address before this middleware
sees it; ``canvasfill serve`` runs uvicorn with ``proxy_headers=False``, so this setting
is the one list.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

_HOST = re.compile(r"^(?:[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")
"""A host[:port] fit for a URL: a name, IPv4 or bracketed IPv6; nothing else."""
_SCHEMES = ("http", "https")


class TrustedProxies:
    def __init__(self, allow: Sequence[str]) -> None:
        self.everyone = "*" in allow
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._names: set[str] = set()
        for entry in allow:
            try:
                self._networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                self._names.add(entry.strip())

    def trusts(self, peer: str | None) -> bool:
        if self.everyone:
            return True
        if not peer:
            return False
        if peer in self._names:
            return True
        try:
            address = ipaddress.ip_address(peer.split("%")[0])
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def _first(value: str) -> str:
    return value.split(",")[0].strip()


def _forwarded(header: str) -> dict[str, str]:
    """The first element of a ``Forwarded`` header, as lower-case keys (RFC 7239)."""
    pairs: dict[str, str] = {}
    for part in _first(header).split(";"):
        name, _, value = part.partition("=")
        if value:
            pairs[name.strip().lower()] = value.strip().strip('"')
    return pairs


class ForwardedHeaders:
    """ASGI middleware: a trusted proxy's scheme, host and client address, applied."""

    def __init__(self, app: ASGIApp, allow: Sequence[str]) -> None:
        self.app = app
        self.proxies = TrustedProxies(allow)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if self.proxies.trusts(client[0] if client else None):
                _apply(scope)
        await self.app(scope, receive, send)


def _apply(scope: Scope) -> None:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    if "forwarded" in headers:
        pairs = _forwarded(headers["forwarded"])
        proto, host, client = pairs.get("proto"), pairs.get("host"), pairs.get("for")
    else:
        proto = _first(headers["x-forwarded-proto"]) if "x-forwarded-proto" in headers else None
        host = _first(headers["x-forwarded-host"]) if "x-forwarded-host" in headers else None
        client = _first(headers["x-forwarded-for"]) if "x-forwarded-for" in headers else None
    if proto and proto.lower() in _SCHEMES:
        scope["scheme"] = proto.lower()
    if host and _HOST.match(host):
        kept = [(name, value) for name, value in scope["headers"] if name != b"host"]
        scope["headers"] = [*kept, (b"host", host.encode("latin-1"))]
    if client:
        address = client.strip("[]").split("]:")[0]
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return
        scope["client"] = (address, 0)
