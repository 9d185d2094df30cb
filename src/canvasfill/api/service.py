"""The running service's parts, held on ``app.state.service`` for the routes to use."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from canvasfill.api.metrics import Metrics
from canvasfill.api.ratelimit import RateLimiter
from canvasfill.jobs.callbacks import CallbackSender
from canvasfill.jobs.dispatcher import Dispatcher
from canvasfill.jobs.models import Task, TaskStatus
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
