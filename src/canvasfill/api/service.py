"""The running service's parts, held on ``app.state.service`` for the routes to use."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from canvasfill.api.errors import ApiCode, ApiError
from canvasfill.api.metrics import Metrics
from canvasfill.api.ratelimit import RateLimiter
from canvasfill.jobs.callbacks import CallbackSender
from canvasfill.jobs.dispatcher import Dispatcher
from canvasfill.jobs.models import ApiKey, Task, TaskStatus
from canvasfill.jobs.runtime import Runtime
from canvasfill.storage.sweeper import Sweeper


@dataclass
class Service:
    runtime: Runtime
    dispatcher: Dispatcher
    limiter: RateLimiter
    metrics: Metrics
    callbacks: CallbackSender
    sweeper: Sweeper
    base_url: str | None = None
    """Where results are fetched from: the setting, else the first request's address."""

    def public_base(self, request: Request | None = None) -> str:
        configured = self.runtime.settings.public_url
        if configured:
            return configured.rstrip("/")
        if request is not None:
            return str(request.base_url).rstrip("/")
        return self.base_url or "http://127.0.0.1:8000"


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def wait_for_finish(service: Service, task: Task, seconds: float) -> Task:
    """Poll the record until the task finishes or ``seconds`` pass (bounded, gentle).

    For ``Prefer: wait`` and for dialects whose requests are synchronous.
    """
    deadline = time.monotonic() + seconds
    delay = 0.05
    while not TaskStatus(task.status).finished:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 1.5, 0.5)
        fresh = await run_in_threadpool(service.runtime.tasks.get, task.id)
        task = fresh or task
    return task


def find_own_task(
    service: Service, key: ApiKey, task_id: str, dialect: str | None = None
) -> Task | None:
    """Task ``task_id`` if it is ``key``'s (and came in by ``dialect``, when given)."""
    task = service.runtime.tasks.get(task_id)
    if task is None or task.key_id != key.id:
        return None
    if dialect is not None and task.dialect != dialect:
        return None
    return task


def own_task(service: Service, key: ApiKey, task_id: str, dialect: str | None = None) -> Task:
    """As :func:`find_own_task`, answering 404 when there is no such task for the caller."""
    task = find_own_task(service, key, task_id, dialect)
    if task is None:
        raise ApiError(404, ApiCode.NOT_FOUND, f"there is no task {task_id!r} for this key")
    return task
