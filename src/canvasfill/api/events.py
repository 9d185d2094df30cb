"""``GET /v1/tasks/{id}/events``: a task's progress as Server-Sent Events.

The stream sends one ``progress`` event per change of status or progress (the first
one is the state at connection), then one ``task`` event holding the finished task as
the native task JSON, then it ends. Comment lines keep idle connections open.

The stream does not poll the database: it holds one watch on the task events the
synchronous waits use (in process, or Redis pub/sub across nodes), asking for progress
events too, and re-reads the record once per event heard, and every ``RECHECK_S`` in
case one was lost. A client that goes away ends its stream (Starlette cancels the
response on disconnect; the check after each wake-up notices it otherwise), so no
server task outlives its client.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from canvasfill.api.auth import require_key
from canvasfill.api.render import native_task
from canvasfill.api.service import Service, get_service
from canvasfill.api.steps import find_task
from canvasfill.jobs.events import RECHECK_S
from canvasfill.jobs.tables import ApiKey, Task, TaskStatus

router = APIRouter(prefix="/v1", tags=["native"])

Caller = Annotated[ApiKey, Depends(require_key)]
ServiceDep = Annotated[Service, Depends(get_service)]

KEEPALIVE_S = 15.0
"""A comment line this often while nothing changes (proxies close silent connections)."""


@dataclass
class OpenStreams:
    """How many event streams are being served now (tests check none is left behind)."""

    count: int = 0


def open_streams(request: Request) -> OpenStreams:
    streams: OpenStreams | None = getattr(request.app.state, "event_streams", None)
    if streams is None:
        streams = request.app.state.event_streams = OpenStreams()
    return streams


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event (JSON has no raw newlines, so one data line suffices)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def progress_data(task: Task) -> dict[str, Any]:
    return {"id": task.id, "status": task.status, "progress": task.progress}


async def task_events(request: Request, service: Service, task: Task) -> AsyncIterator[bytes]:
    """The event stream of ``task``; ends after the finished task, or when the client left."""
    streams = open_streams(request)
    streams.count += 1
    base = service.public_base(request)
    tasks, task_id = service.runtime.tasks, task.id

    async def read() -> Task | None:
        return await run_in_threadpool(tasks.get, task_id)

    try:
        yield b"retry: 1000\n\n"
        with service.events.watch(task.id, progress=True) as watch:
            # listening before the re-read: a change between the two still wakes us
            task = await read() or task
            yield sse("progress", progress_data(task))
            last_read = last_sent = time.monotonic()
            while not TaskStatus(task.status).finished:
                next_read, next_keepalive = last_read + RECHECK_S, last_sent + KEEPALIVE_S
                timeout = max(0.0, min(next_read, next_keepalive) - time.monotonic())
                woken = await watch.wait(timeout)
                if await request.is_disconnected():
                    return
                now = time.monotonic()
                if woken or now >= next_read:
                    fresh, last_read = await read(), now
                    if fresh is None:
                        gone = {"code": "not_found", "message": "the task no longer exists"}
                        yield sse("error", gone)
                        return
                    if (fresh.status, fresh.progress) != (task.status, task.progress):
                        task, last_sent = fresh, now
                        yield sse("progress", progress_data(task))
                        continue
                if now >= next_keepalive:
                    last_sent = now
                    yield b": keep-alive\n\n"  # writing is also how a gone client is noticed
        yield sse("task", native_task(task, service.runtime, base))
    finally:
        streams.count -= 1


@router.get(
    "/tasks/{task_id}/events",
    summary="Task events (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    task_id: str, request: Request, key: Caller, service: ServiceDep
) -> StreamingResponse:
    """Server-Sent Events for one of the caller's tasks.

    ``event: progress`` with ``{id, status, progress}`` at connection and on every change,
    then ``event: task`` with the finished task (as ``GET /v1/tasks/{id}``); then the
    stream ends. Send the key as ``Authorization: Bearer <key>``.
    """
    task = await run_in_threadpool(find_task, service, key, task_id)
    return StreamingResponse(
        task_events(request, service, task),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
