"""What the API needs from a dispatcher, whichever runs the tasks (embedded pool or Celery)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

FinishedHook = Callable[[str], None]


class Dispatcher(Protocol):
    """What the API needs from any dispatcher (embedded pool or Celery)."""

    def start(self) -> None: ...

    def submit(self, task_id: str) -> None: ...

    def stop(self) -> None: ...

    def alive(self) -> bool: ...
