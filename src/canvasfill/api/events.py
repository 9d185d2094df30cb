"""``GET /v1/tasks/{id}/events``: a task's progress as Server-Sent Events.

The stream sends one ``progress`` event per change of status or progress (the first
one is the state at connection), then one ``task`` event holding the finished task as
the native task JSON, then it ends. Comment lines keep idle connections open. A task
that asked for previews (``previews`` > 0) also gets a ``progress`` event per preview
its worker stored, carrying ``previews: [{index, url}]`` (signed URLs of the pictures).

The stream does not poll the database: it follows the task (``api/follow.py``): one
watch on the task events the synchronous waits use (in process, or Redis pub/sub
across nodes), asking for progress events too, one re-read of the record per event
heard, and one every ``RECHECK_S`` in case one was lost. A client that goes away ends
its stream (Starlette cancels the response on disconnect; the check after each
wake-up notices it otherwise), so no server task outlives its client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from canvasfill.api.auth import require_key
from canvasfill.api.follow import TaskGoneError, Update, follow
from canvasfill.api.render import native_task
from canvasfill.api.service import Service, get_service
from canvasfill.api.steps import find_task
from canvasfill.jobs.events import RECHECK_S
from canvasfill.jobs.tables import ApiKey, Task

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


def progress_data(task: Task, previews: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"id": task.id, "status": task.status, "progress": task.progress}
    if previews:
        data["previews"] = list(previews)
    return data


def preview_links(service: Service, update: Update, base: str) -> list[dict[str, Any]]:
    """Signed URLs of an update's new previews (valid as long as results are kept)."""
    expires_at = datetime.now(UTC) + service.runtime.result_ttl
    return [
        {
            "index": update.first_preview + offset,
            "url": service.runtime.blobs.url(key, expires_at, base),
        }
        for offset, key in enumerate(update.previews)
    ]


async def task_events(request: Request, service: Service, task: Task) -> AsyncIterator[bytes]:
    """The event stream of ``task``; ends after the finished task, or when the client left."""
    streams = open_streams(request)
    streams.count += 1
    base = service.public_base(request)
    try:
        yield b"retry: 1000\n\n"
        updates = follow(
            service,
            task,
            gone=request.is_disconnected,
            keepalive_s=KEEPALIVE_S,
            recheck_s=RECHECK_S,
        )
        last: Update | None = None
        try:
            async with aclosing(updates):  # its watch ends with this stream
                async for update in updates:
                    if update is None:
                        yield b": keep-alive\n\n"  # writing is also how a gone client is noticed
                        continue
                    links = []
                    if update.previews:
                        links = await run_in_threadpool(preview_links, service, update, base)
                    yield sse("progress", progress_data(update.task, links))
                    last = update
        except TaskGoneError:
            yield sse("error", {"code": "not_found", "message": "the task no longer exists"})
            return
        if last is None or not last.finished:
            return  # the client left
        yield sse("task", native_task(last.task, service.runtime, base))
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

    ``event: progress`` with ``{id, status, progress}`` at connection and on every change
    (with ``previews: [{index, url}]`` when previews the task asked for were stored),
    then ``event: task`` with the finished task (as ``GET /v1/tasks/{id}``); then the
    stream ends. Send the key as ``Authorization: Bearer <key>``.
    """
    task = await run_in_threadpool(find_task, service, key, task_id)
    return StreamingResponse(
        task_events(request, service, task),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
