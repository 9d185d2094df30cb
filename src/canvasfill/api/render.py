"""Turning a task record into what callers see: result URLs and the native task JSON.

Result URLs are signed when rendered and expire with the results themselves, so every
rendering of one task shows the same URLs. Callback bodies are rendered per dialect:
a dialect module registers its renderer here under its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.tables import Task


@dataclass(frozen=True)
class ResultView:
    url: str
    width: int
    height: int
    format: str


def results_expired(task: Task, now: datetime | None = None) -> bool:
    """Whether the task's results are gone, decided on read: the sweeper's flag lags the
    TTL by up to a sweep interval, and a reader must not see ``results: []`` beside
    ``results_expired: false`` meanwhile."""
    if task.results_expired:
        return True
    expire_at = task.results_expire_at
    return expire_at is not None and expire_at <= (now or datetime.now(UTC))


def result_views(task: Task, runtime: Runtime, base_url: str) -> list[ResultView]:
    """Signed URLs of the task's results; none once they expired."""
    if task.results_expire_at is None or results_expired(task):
        return []
    return [
        ResultView(
            url=runtime.blobs.url(result["key"], task.results_expire_at, base_url),
            width=int(result["width"]),
            height=int(result["height"]),
            format=str(result["format"]),
        )
        for result in task.results
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def native_task(task: Task, runtime: Runtime, base_url: str) -> dict[str, Any]:
    """The native API's task object."""
    error = None
    if task.error_code:
        error = {"code": task.error_code, "message": task.error_message, "field": task.error_field}
    callback = None
    if task.callback_url:
        callback = {
            "url": task.callback_url,
            "state": task.callback_state,
            "attempts": task.callback_attempts,
        }
    return {
        "id": task.id,
        "object": "task",
        "operation": task.operation,
        "status": task.status,
        "progress": task.progress,
        "created_at": _iso(task.created_at),
        "started_at": _iso(task.started_at),
        "finished_at": _iso(task.finished_at),
        "engine": task.engine,
        "seed": task.seed,
        "n": int(task.spec.get("n", 1)),
        "error": error,
        "results": [view.__dict__ for view in result_views(task, runtime, base_url)],
        "results_expire_at": _iso(task.results_expire_at),
        "results_expired": results_expired(task),
        "ignored_params": task.ignored,
        "callback": callback,
    }


CallbackRenderer = Callable[[Task, str, Runtime, str], dict[str, Any]]
"""(task, event, runtime, base_url) → a callback's JSON body."""


def native_callback(task: Task, event: str, runtime: Runtime, base_url: str) -> dict[str, Any]:
    """Standard Webhooks' envelope: ``{type, timestamp, data}``."""
    return {
        "type": event,
        "timestamp": _iso(datetime.now(UTC)),
        "data": native_task(task, runtime, base_url),
    }


CALLBACK_RENDERERS: dict[str, CallbackRenderer] = {"native": native_callback}


def register_callback_renderer(dialect: str, renderer: CallbackRenderer) -> None:
    CALLBACK_RENDERERS[dialect] = renderer


def render_callback(task: Task, event: str, runtime: Runtime, base_url: str) -> dict[str, Any]:
    renderer = CALLBACK_RENDERERS.get(task.dialect, native_callback)
    return renderer(task, event, runtime, base_url)
