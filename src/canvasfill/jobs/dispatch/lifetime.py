"""Worker processes end with the process that started them (embedded pool and Celery alike)."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)


def die_with_parent(poll_s: float = 0.5) -> None:
    """End this process when its parent dies, even by ``kill -9``.

    On Linux the kernel sends SIGKILL at once (``PR_SET_PDEATHSIG``); everywhere a
    daemon thread also watches the parent pid and exits when this process has been
    handed to another parent. Without this, a killed server's workers would finish what
    they hold, then idle forever, racing the restarted server's workers.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            log.debug("prctl(PR_SET_PDEATHSIG) is not available", exc_info=True)
    if os.getppid() != parent:  # the parent died before the kernel was told
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_PR_SET_PDEATHSIG = 1
