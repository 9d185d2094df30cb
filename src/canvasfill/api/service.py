"""The running service's parts, held on ``app.state.service`` for the routes to use."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from canvasfill.api.metrics import Metrics
from canvasfill.api.ratelimit import Limiter
from canvasfill.jobs.callbacks import CallbackSender
from canvasfill.jobs.dispatch import Dispatcher
from canvasfill.jobs.events import LocalEvents, TaskEvents
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.sweeper import Sweeper


@dataclass
class Service:
    runtime: Runtime
    dispatcher: Dispatcher
    limiter: Limiter
    metrics: Metrics
    callbacks: CallbackSender
    sweeper: Sweeper
    base_url: str | None = None
    """Where results are fetched from: the setting, else the first request's address."""
    events: TaskEvents = field(default_factory=LocalEvents)
    """Wakes waiting requests when their task finishes (in process, or Redis pub/sub)."""

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
