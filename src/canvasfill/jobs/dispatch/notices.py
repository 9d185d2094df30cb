"""Notices from the embedded pool's worker processes to their server: "task X progressed",
and "task X's outcome is recorded".

The pool's own queues carry only a call's outcome, so progress needs a channel of its
own. The outcome notice is sent the moment the outcome is in the store, so a waiting
request is woken without the return trip through the pool (its result pipe, the pool's
manager thread, the dispatcher's control thread), which still follows and still tells
the dispatcher; the second wake-up finds nobody waiting.

It is a UDP socket on loopback, bound by the server on a port the OS picks: a datagram
arrives whole or not at all, no lock is shared between processes (a worker
killed mid-send corrupts nothing and blocks nobody), and a send never waits. A notice
is only a wake-up (the task record stays the truth, and waiters re-read it on a
period), so one that is lost costs latency, nothing else; a stray datagram from another
local process costs a waiter one read.
"""

from __future__ import annotations

import logging
import socket
import threading

from canvasfill.jobs.events import ProgressHook

log = logging.getLogger(__name__)

MAX_NOTICE = 256
"""Bytes of one notice at most (a task id is 36)."""
OUTCOME = "done:"
"""What an outcome notice starts with (a progress notice is the bare task id)."""

Address = tuple[str, int]


class NoticeInbox:
    """The server's end: a thread that hands each task id received to ``on_notice``
    (progress) or ``on_outcome`` (an outcome recorded)."""

    def __init__(self, on_notice: ProgressHook, on_outcome: ProgressHook | None = None) -> None:
        self._on_notice = on_notice
        self._on_outcome = on_outcome
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.5)
        self.address: Address = self._socket.getsockname()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._receive, name="notices", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(MAX_NOTICE)
            except TimeoutError:
                continue
            except OSError:  # closed under us: stopping
                return
            try:
                text = data.decode("ascii")
                if text.startswith(OUTCOME):
                    if self._on_outcome is not None:
                        self._on_outcome(text.removeprefix(OUTCOME))
                else:
                    self._on_notice(text)
            except Exception:  # a bad datagram or a failing hook must not end the thread
                log.warning("task notice dropped", exc_info=True, extra={"event": "notice"})


class NoticeSender:
    """A worker's end: ``sender(task_id)`` sends a notice and never raises or waits."""

    def __init__(self, address: Address) -> None:
        self._address = address
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def __call__(self, task_id: str) -> None:
        self._send(task_id)

    def outcome(self, task_id: str) -> None:
        """Tell the server that ``task_id``'s outcome is recorded."""
        self._send(OUTCOME + task_id)

    def _send(self, text: str) -> None:
        try:
            self._socket.sendto(text.encode("ascii"), self._address)
        except (OSError, UnicodeEncodeError):  # a full buffer or a gone server: waiters re-read
            log.debug("task notice not sent", exc_info=True)
