"""What the API needs from a dispatcher, whichever runs the tasks (embedded pool or Celery)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

FinishedHook = Callable[[str], None]


class Dispatcher(Protocol):
    """What the API needs from any dispatcher (embedded pool or Celery)."""

    def start(self) -> None: ...

    def submit(self, task_id: str, engine: str | None = None) -> None:
        """Hand the stored task ``task_id`` on to run; ``engine``, the engine it stores,
        when the caller has it (Celery picks the queue by it without reading the task)."""
        ...

    def stop(self) -> None: ...

    def alive(self) -> bool: ...

    def ready(self) -> bool:
        """Alive, and able to run a task at full speed now (``/readyz``): the embedded
        pool once a worker has warmed its engines; Celery's workers are other processes,
        with readiness of their own, so there it is ``alive``."""
        ...
