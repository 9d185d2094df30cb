"""The FastAPI app: one process that accepts, runs and serves expansion and removal work.

``create_app`` builds the runtime (applying migrations) at once and installs every
registered door through the one handler; the lifespan starts the task events, the
dispatcher (embedded pool, or Celery with a broker), the callback sender and the
sweeper (which also queues again tasks whose lease lapsed), and stops them on shutdown.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from canvasfill import __version__
from canvasfill.api import (
    dialects,
    docs,
    engines_route,
    events,
    files,
    forwarded,
    health,
    playground,
)
from canvasfill.api import handler as doors
from canvasfill.api.door import DOORS
from canvasfill.api.errors import error_info
from canvasfill.api.metrics import Metrics
from canvasfill.api.native import door as native_door
from canvasfill.api.native.schema import REQUEST_SCHEMAS
from canvasfill.api.observe import Observe
from canvasfill.api.ratelimit import limiter_for
from canvasfill.api.readiness import Readiness
from canvasfill.api.service import Service
from canvasfill.errors import CanvasfillError
from canvasfill.jobs.callbacks import CallbackSender
from canvasfill.jobs.dispatch import make_dispatcher
from canvasfill.jobs.events import events_for
from canvasfill.jobs.logs import request_id
from canvasfill.jobs.runtime import build_runtime
from canvasfill.jobs.sweeper import Sweeper
from canvasfill.jobs.tables import Task, TaskStatus
from canvasfill.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = build_runtime(settings, apply_migrations=True)
    holder: dict[str, Service] = {}

    def finished(task_id: str) -> None:
        # waiters first: a synchronous request is answered while the rest is done here
        holder["service"].events.publish(task_id)
        task = runtime.tasks.get(task_id)
        if task is not None and TaskStatus(task.status).finished:
            holder["service"].metrics.task_finished(task)
        if task is None or task.callback_url:
            # only a task with a callback has a delivery to send; waking the sender for
            # the others would put its store query beside the answer being rendered
            holder["service"].callbacks.wake()

    task_events = events_for(
        settings.broker_url, lambda _task_id: holder["service"].callbacks.wake()
    )
    dispatcher = make_dispatcher(
        runtime,
        on_finished=finished,
        on_progress=lambda task_id: holder["service"].events.publish_progress(task_id),
    )

    def callback_body(task: Task, event: str) -> dict[str, Any]:
        return doors.render_callback(task, event, runtime, holder["service"].public_base())

    service = Service(
        runtime=runtime,
        dispatcher=dispatcher,
        limiter=limiter_for(settings.rate_limit, settings.broker_url),
        metrics=Metrics(lambda: runtime.tasks.count_by_status().get(TaskStatus.QUEUED, 0)),
        callbacks=CallbackSender(runtime, callback_body),
        sweeper=Sweeper(
            runtime, dispatcher.submit, finished, fail_overdue=bool(settings.broker_url)
        ),
        events=task_events,
    )
    holder["service"] = service

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.events.start()
        service.dispatcher.start()
        service.callbacks.start()
        service.sweeper.start()
        log.info("canvasfill is serving", extra={"event": "started", "workers": settings.workers})
        try:
            yield
        finally:
            service.sweeper.stop()
            service.callbacks.stop()
            service.dispatcher.stop()
            service.events.stop()
            handler.close()
            runtime.close()

    app = FastAPI(
        title="canvasfill",
        summary="Self-hosted image expansion (outpainting) and object removal (inpainting).",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served offline by api/playground.py
        redoc_url=None,
    )
    app.state.service = service
    app.state.readiness = Readiness()
    handler = app.state.handler = doors.Handler(service, app.state.readiness)
    _install_error_handlers(app)
    import_dialects()
    for door in (native_door.DOOR, *(d for d in DOORS.values() if d is not native_door.DOOR)):
        doors.install(app, handler, door)
    app.include_router(engines_route.router)
    app.include_router(events.router)
    app.include_router(files.router)
    app.include_router(health.router)
    app.include_router(docs.router)  # before the /docs-assets mount: ReDoc's bundle, offline
    playground.install(app)
    app.add_middleware(Observe, service=service)
    # outermost: a trusted proxy's forwarded headers apply before anything reads the URL
    app.add_middleware(forwarded.ForwardedHeaders, allow=settings.forwarded_allow_ips)
    _extend_openapi(app)
    return app


def import_dialects() -> None:
    """Import every module of ``api.dialects``: each registers its door."""
    for module_info in pkgutil.iter_modules(dialects.__path__, prefix=dialects.__name__ + "."):
        importlib.import_module(module_info.name)


def _install_error_handlers(app: FastAPI) -> None:
    """Errors raised outside a door's operation (unknown paths, wrong methods, the
    routes that are not doors) answer in the shape of the door whose namespace holds the
    path, else the native one. A door's own operations render their errors themselves."""

    async def handle(request: Request, exc: Exception) -> Response:
        rid = request_id.get() or uuid.uuid4().hex
        return doors.render_error(doors.door_for_path(request.url.path), error_info(exc), rid)

    for kind in (CanvasfillError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, handle)


def _extend_openapi(app: FastAPI) -> None:
    """Add the native request schemas (used by the hand-written request bodies)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(REQUEST_SCHEMAS)
            components.setdefault("securitySchemes", {}).update(doors.security_schemes())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
