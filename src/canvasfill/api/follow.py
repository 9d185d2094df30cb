"""Following a task as it runs: what every answer that streams shares.

The native event stream (``api/events.py``) and a door's streamed answer (a
``Create`` with ``stream``, such as OpenAI's ``stream=true``) both need the same loop:
hold one watch on the task's events, asking for progress events too, re-read the
record once per event heard (and every ``RECHECK_S`` in case one was lost), look for
previews the worker stored (``jobs/previews.py``) when the task asked for some, and
say when a keep-alive is due. :func:`follow` is that loop; callers turn what it yields
into their own bytes. It never polls the database faster than events arrive.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool

from canvasfill.api.service import Service
from canvasfill.jobs.events import RECHECK_S
from canvasfill.jobs.previews import previews_asked, stored_previews
from canvasfill.jobs.tables import Task, TaskStatus

KEEPALIVE_S = 15.0
"""A keep-alive this often while nothing changes (proxies close silent connections)."""


@dataclass(frozen=True)
class Update:
    """The task as it is now, and the previews stored since the last update."""

    task: Task
    previews: tuple[str, ...] = ()
    """Blob keys of the new previews, in order (``jobs.previews.preview_key``)."""
    first_preview: int = 0
    """The index of ``previews[0]`` among the task's previews."""

    @property
    def finished(self) -> bool:
        return TaskStatus(self.task.status).finished


class TaskGoneError(LookupError):
    """The task being followed no longer exists (deleted under the stream)."""


KEEPALIVE = None
"""What :func:`follow` yields when a keep-alive is due."""


async def follow(
    service: Service,
    task: Task,
    *,
    previews: bool = True,
    deadline_s: float | None = None,
    gone: Callable[[], Awaitable[bool]] | None = None,
    keepalive_s: float = KEEPALIVE_S,
    recheck_s: float = RECHECK_S,
) -> AsyncGenerator[Update | None, None]:
    """Updates of ``task``: its state now, then one per change of status or progress or
    new previews, the last one finished (every preview stored by then comes with it or
    before); ``KEEPALIVE`` (None) when nothing changed for ``keepalive_s``. The record
    is re-read on each event heard and every ``recheck_s`` regardless.

    Ends early when ``gone()`` says the client left (checked after each wake-up), or
    after ``deadline_s`` with the task unfinished (the caller says so its own way).
    Raises :class:`TaskGoneError` when the record disappears.
    """
    tasks, blobs, task_id = service.runtime.tasks, service.runtime.blobs, task.id
    wants_previews = previews and previews_asked(task.spec) > 0
    sent = 0
    end = None if deadline_s is None else time.monotonic() + deadline_s

    async def read() -> Task:
        fresh: Task | None = await run_in_threadpool(tasks.get, task_id)
        if fresh is None:
            raise TaskGoneError(task_id)
        return fresh

    async def update(current: Task) -> Update:
        nonlocal sent
        found: list[str] = []
        if wants_previews:
            found = await run_in_threadpool(stored_previews, blobs, task_id, current.spec, sent)
        first, sent = sent, sent + len(found)
        return Update(current, tuple(found), first)

    with service.events.watch(task_id, progress=True) as watch:
        # listening before the re-read: a change between the two still wakes us
        task = await read()
        latest = await update(task)
        yield latest
        last_read = last_sent = time.monotonic()
        while not latest.finished:
            now = time.monotonic()
            if end is not None and now >= end:
                return
            wake_by = min(last_read + recheck_s, last_sent + keepalive_s)
            if end is not None:
                wake_by = min(wake_by, end)
            woken = await watch.wait(max(0.0, wake_by - now))
            if gone is not None and await gone():
                return
            now = time.monotonic()
            if woken or now >= last_read + recheck_s:
                fresh = await read()
                last_read = now
                changed = (fresh.status, fresh.progress) != (task.status, task.progress)
                candidate = await update(fresh)
                if changed or candidate.previews:
                    task, latest, last_sent = fresh, candidate, now
                    yield latest
                    continue
            if now >= last_sent + keepalive_s:
                last_sent = now
                yield KEEPALIVE
