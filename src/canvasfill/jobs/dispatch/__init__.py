"""Dispatch: handing a stored task to whatever runs it.

``base.Dispatcher`` is the one interface; ``embedded`` (a pool of worker processes in
``canvasfill serve``) and ``celery_queue`` (Celery over Redis, distributed mode) implement
it. Neither imports the other: :func:`make_dispatcher` picks one from the settings.
"""

from __future__ import annotations

from canvasfill.jobs.dispatch.base import Dispatcher, FinishedHook
from canvasfill.jobs.events import ProgressHook
from canvasfill.jobs.runtime import Runtime

__all__ = ["Dispatcher", "FinishedHook", "make_dispatcher"]


def make_dispatcher(
    runtime: Runtime,
    on_finished: FinishedHook | None = None,
    on_progress: ProgressHook | None = None,
) -> Dispatcher:
    """Celery when a broker is configured, else the embedded pool (which alone calls
    ``on_finished`` and ``on_progress``; Celery workers publish their task events, progress
    included, on Redis themselves)."""
    if runtime.settings.broker_url:
        from canvasfill.jobs.dispatch.celery_queue import CeleryDispatcher  # Celery only here

        return CeleryDispatcher(runtime)
    from canvasfill.jobs.dispatch.embedded import EmbeddedDispatcher

    return EmbeddedDispatcher(
        runtime, runtime.settings.workers, on_finished=on_finished, on_progress=on_progress
    )
