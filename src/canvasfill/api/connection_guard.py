"""A guard against slow and greedy clients at the HTTP connection, for ``canvasfill serve``.

uvicorn bounds neither the time a client takes to send a request's head nor how many
connections one client holds, so forty sockets that send half a header and stall stay
open for as long as they like, each holding a file descriptor and a buffer. This is
uvicorn's own h11 protocol with two rules added:

- a request head (request line and headers) must be complete within
  ``header_timeout_s`` of the connection opening, or of the previous answer on a kept-
  alive connection; else the client gets ``408`` and the connection is closed. A body
  that stalls is ``body_timeout_s``'s business (api/bodies), an idle kept-alive
  connection uvicorn's ``timeout_keep_alive``.
- one peer address holds at most ``connections_per_peer`` connections at once; a
  further one is closed as soon as it opens (0: no bound; behind a proxy every
  connection comes from the proxy, so raise it there, or bound clients at the proxy).

A head counts as complete when uvicorn starts a request cycle for it; nothing here
parses HTTP itself.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 36\r\n"
    b"connection: close\r\n\r\n"
    b"the request head took too long: bye\n"
)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head deadline and a per-peer bound.

    Configure it with :func:`guarded_protocol`, which gives each server its own subclass
    (and so its own count of connections per peer).
    """

    header_timeout_s: ClassVar[float] = 10.0
    connections_per_peer: ClassVar[int] = 64
    open_by_peer: ClassVar[Counter[str]] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._peer: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._awaited_after: object = None
        """The request cycle that was current when the deadline was set: a different one
        means the next head arrived."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = self.client[0] if self.client else None
        if peer is not None and self.connections_per_peer > 0:
            if self.open_by_peer[peer] >= self.connections_per_peer:
                self.logger.warning(
                    "%s holds %d connections already: one more was closed",
                    peer,
                    self.open_by_peer[peer],
                )
                transport.abort()
                return
            self.open_by_peer[peer] += 1
            self._peer = peer
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self._peer is not None:
            self.open_by_peer[self._peer] -= 1
            if self.open_by_peer[self._peer] <= 0:
                del self.open_by_peer[self._peer]
            self._peer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not self._awaited_after:
            self._cancel_head_timer()  # the head is in: a request cycle started

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._await_head()  # the next head on this kept-alive connection
        super().on_response_complete()
        if self.cycle is not self._awaited_after:
            self._cancel_head_timer()  # a pipelined request was already waiting

    def _await_head(self) -> None:
        self._cancel_head_timer()
        self._awaited_after = self.cycle
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.cycle is not self._awaited_after:
            return
        self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def guarded_protocol(header_timeout_s: float, connections_per_peer: int) -> type[H11Protocol]:
    """A protocol class for ``uvicorn.run(..., http=...)`` with these bounds."""

    class Guarded(GuardedH11Protocol):
        pass

    Guarded.header_timeout_s = header_timeout_s
    Guarded.connections_per_peer = connections_per_peer
    Guarded.open_by_peer = Counter()
    return Guarded
