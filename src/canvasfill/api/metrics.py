"""Prometheus metrics: requests, task durations, queue depth and failures by code.

Each app has its own registry, so several apps in one process (tests) never clash.
Request labels are bounded (``request_labels``): no request adds a series.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import Scope

from canvasfill.jobs.tables import Task

__all__ = ["CONTENT_TYPE", "Metrics", "request_labels"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods labelled by name; any other (``curl -X M$RANDOM``) is ``other``."""


def request_labels(scope: Scope) -> tuple[str, str]:
    """(method, route) labels from fixed sets: each distinct value is a series kept for
    the life of the process, so a caller must not be able to make new ones. The route is
    the matched route's template (``/v1/tasks/{task_id}``), else ``unmatched``."""
    method = str(scope.get("method", "")).upper()
    path = getattr(scope.get("route"), "path", None)
    return (
        method if method in METHODS else "other",
        path if isinstance(path, str) else "unmatched",
    )


class Metrics:
    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "canvasfill_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "canvasfill_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )
        self.task_seconds = Histogram(
            "canvasfill_task_seconds",
            "Time from a task's start to its end",
            ["operation", "engine", "status"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.task_failures = Counter(
            "canvasfill_task_failures",
            "Tasks that failed, by error code",
            ["code"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "canvasfill_queue_depth", "Tasks waiting to start", registry=self.registry
        )
        self.queue_depth.set_function(queue_depth)

    def observe_request(self, scope: Scope, status: int, seconds: float) -> None:
        """Count one answered request under its method and route template."""
        method, route = request_labels(scope)
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def task_finished(self, task: Task) -> None:
        if task.started_at is not None and task.finished_at is not None:
            seconds = (task.finished_at - task.started_at).total_seconds()
            self.task_seconds.labels(task.operation, task.engine, task.status).observe(seconds)
        if task.error_code:
            self.task_failures.labels(task.error_code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
