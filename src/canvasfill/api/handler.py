"""The one handler: every operation of every door runs through the same steps here.

Create: authorize, read the capped body, parse, check the headers, accept (idempotency,
credits), dispatch, wait on task events, view, render; or, for a create whose door
streams (``Create.stream``), answer at once with chunks rendered as the task's events
arrive (``api/follow.py``). Get, list, cancel and account
take the same path without the body and the acceptance. Nothing that blocks runs on the
event loop: key lookups, store reads and writes and views run in the thread pool, and
the steps that can take long (parsing and checking images, acceptance, views that carry
result bytes) in a bounded executor of their own, so a burst of large uploads cannot
take every thread the quick steps need. Errors are rendered by the door that owns the
route; unknown paths by the door whose namespace they lie in.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing, nullcontext
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from canvasfill.api import steps
from canvasfill.api.body import read_body
from canvasfill.api.door import (
    DOORS,
    SYNC_WAIT,
    Account,
    Answer,
    CancelTask,
    Create,
    Door,
    GetTask,
    Incoming,
    ListTasks,
    Operation,
    Stream,
)
from canvasfill.api.errors import (
    NATIVE_STATUS,
    ApiError,
    ErrorInfo,
    error_info,
    native_error_body,
)
from canvasfill.api.follow import follow
from canvasfill.api.ratelimit import Limiter, limiter_for
from canvasfill.api.readiness import Readiness
from canvasfill.api.render import native_callback_body, preview_views, view_for
from canvasfill.api.service import Service
from canvasfill.api.view import TaskView
from canvasfill.errors import ErrorCode, InputError
from canvasfill.jobs.events import Watch
from canvasfill.jobs.logs import request_id
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey, Task, TaskStatus

log = logging.getLogger(__name__)

Params = ParamSpec("Params")
Result = TypeVar("Result")

PUBLIC_BASE_META = "public_base"
"""Where a task keeps the base URL its request came in on (for later callbacks)."""
HEAVY_THREADS = 4
"""Threads for parsing, image checks, acceptance and views with result bytes."""


class Handler:
    """Runs doors' operations; one per app (it owns the bounded executor)."""

    def __init__(self, service: Service, readiness: Readiness) -> None:
        self.service = service
        self.readiness = readiness
        self._heavy = ThreadPoolExecutor(HEAVY_THREADS, thread_name_prefix="door-heavy")
        self.limiters: dict[str, Limiter] = {}
        """Doors' own rate limiters by door name (tests put a clock of their own in)."""

    def close(self) -> None:
        self._heavy.shutdown(wait=False, cancel_futures=True)

    async def heavy(
        self, function: Callable[Params, Result], *args: Params.args, **kwargs: Params.kwargs
    ) -> Result:
        """``function`` in the bounded executor, with this request's context (its id)."""
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._heavy, call)

    def limiter(self, door: Door) -> Limiter | None:
        """A door with a rate of its own (PicWish: 2/s) gets its own limiter."""
        rate = door.rate_per_second
        if rate is None:
            return None
        if door.name not in self.limiters:
            broker = self.service.runtime.settings.broker_url
            self.limiters[door.name] = limiter_for(rate, broker, door.name)
        return self.limiters[door.name]

    # --- running one operation ------------------------------------------------------

    async def run(self, door: Door, operation: Operation, request: Request) -> Response:
        rid = request_id.get() or uuid.uuid4().hex
        try:
            answer = await self._run(door, operation, request, rid)
        except Exception as exc:
            return render_error(door, error_info(exc), rid)
        return answer_response(answer)

    async def _run(self, door: Door, operation: Operation, request: Request, rid: str) -> Answer:
        service = self.service
        headers = {name.lower(): value for name, value in request.headers.items()}
        path = dict(request.path_params)
        _refuse_control_characters(path)
        key: ApiKey = await run_in_threadpool(
            door.auth.authorize, service, headers, self.limiter(door)
        )
        base = service.public_base(request)
        query = dict(request.query_params)
        if isinstance(operation, Create):
            read = await read_body(request, operation.body)
            incoming = Incoming(
                read.fields,
                read.files,
                headers,
                query,
                path,
                rid,
                read.json,
                read.was_json,
                read.file_parts,
            )
            return await self._create(door, operation, key, incoming, base)
        incoming = Incoming({}, {}, headers, query, path, rid)
        runtime = service.runtime
        if isinstance(operation, GetTask):
            task = await run_in_threadpool(
                steps.find_task,
                service,
                key,
                path["task_id"],
                door.name if operation.own_door_only else None,
                by_external_id=operation.by_external_id,
            )
            with_data = operation.with_data(dict(task.meta))
            view = await self.heavy(view_for, task, runtime, base, with_data=with_data)
            return operation.render(view, incoming)
        if isinstance(operation, ListTasks):
            page = operation.page(incoming)
            dialect = door.name if operation.own_door_only else None
            tasks = await run_in_threadpool(
                steps.list_tasks,
                service,
                key,
                page.limit,
                before_seq=page.before_seq,
                offset=page.offset,
                dialect=dialect,
            )
            views = await self.heavy(_views, tasks, runtime, base)
            return operation.render(views, page, incoming)
        if isinstance(operation, CancelTask):
            task = await run_in_threadpool(steps.cancel, service, key, path["task_id"])
            return operation.render(await self.heavy(view_for, task, runtime, base), incoming)
        assert isinstance(operation, Account)
        return operation.render(key, incoming)

    async def _create(
        self, door: Door, operation: Create, key: ApiKey, incoming: Incoming, base: str
    ) -> Answer:
        service = self.service
        # one hop off the loop for everything up to the accepted task
        loop = asyncio.get_running_loop()
        admitted = await self.heavy(self._admit, door, operation, key, incoming, base, loop)
        submission, task, wait_s, early = admitted
        stream = operation.stream
        if stream is not None and stream.wanted(submission):
            chunks = self._stream(stream, task, incoming, base, operation.with_data(submission))
            return Answer(None, headers=stream.headers, media_type=stream.media_type, chunks=chunks)
        runtime = service.runtime
        wants_data = operation.with_data(submission)
        finished_view: list[TaskView] = []

        def read_and_view(task_id: str) -> Task | None:
            """The waiter's re-read; a finished task's view made in the same hop."""
            fresh = runtime.tasks.get(task_id)
            if fresh is not None and TaskStatus(fresh.status).finished:
                finished_view.append(view_for(fresh, runtime, base, with_data=wants_data))
            return fresh

        async def reread(task_id: str) -> Task | None:
            return await self.heavy(read_and_view, task_id)

        if wait_s:
            limit = runtime.settings.task_timeout_s + 5.0
            with early or nullcontext():
                task = await steps.wait(service, task, min(wait_s, limit), early, reread)
            if wait_s == SYNC_WAIT and not TaskStatus(task.status).finished:
                raise steps.timed_out(task)
        if finished_view and TaskStatus(task.status).finished:
            return operation.render(finished_view[-1], incoming)
        with_data = wants_data and TaskStatus(task.status).finished
        view = await self.heavy(view_for, task, runtime, base, with_data=with_data)
        return operation.render(view, incoming)

    def _admit(
        self,
        door: Door,
        operation: Create,
        key: ApiKey,
        incoming: Incoming,
        base: str,
        loop: asyncio.AbstractEventLoop,
    ) -> tuple[Submission, Task, float, Watch | None]:
        """Parse, check the headers, refuse while a store is down, accept: (submission,
        task, seconds to wait, the watch a waiting request waits on). Blocking; in that
        order, so a bad header costs nothing.

        A request that waits on a task it created starts listening on ``loop`` before
        the task is dispatched, so it need not re-read the task before its first wait:
        a finish cannot slip past it. The caller closes that watch."""
        service = self.service
        submission = operation.parse(incoming)
        wait_s = operation.wait_s(incoming, submission)
        idem = operation.idempotency(incoming, submission) if operation.idempotency else None
        repeat = None
        if operation.joins_repeats(submission):
            repeat = steps.body_fingerprint(incoming.fields, _every_file(incoming))
        down = self.readiness.down(service)
        if down:
            stores_down = {"database", "blobs"} & set(down)
            raise ApiError(
                ErrorCode.STORAGE_UNAVAILABLE if stores_down else ErrorCode.SERVICE_UNAVAILABLE,
                f"the service cannot take work now: {', '.join(down)} not answering; retry "
                "later (nothing was stored or charged)",
                headers={"Retry-After": "5"},
            )
        submission = replace(
            submission,
            dialect=door.name,
            meta={**submission.meta, PUBLIC_BASE_META: base},
        )
        stream = operation.stream
        streams = stream is not None and stream.wanted(submission)
        opened: list[Watch] = []

        def listen(task: Task, created: bool) -> None:
            if created and wait_s and not streams:
                opened.append(service.events.watch(task.id, loop=loop))

        try:
            task = steps.accept_task(service, key, submission, idem, repeat, listen)
        except BaseException:
            for watch in opened:
                watch.__exit__(None, None, None)
            raise
        return submission, task, wait_s, (opened[0] if opened else None)

    async def _stream(
        self, stream: Stream, task: Task, incoming: Incoming, base: str, with_data: bool
    ) -> AsyncIterator[bytes]:
        """The chunks of a streamed answer: one per change of the task (with the previews
        its worker stored), keep-alives while nothing changes, then the finished task.
        Past the task timeout, or on any failure once streaming, an error chunk ends it.
        A client that leaves cancels this (Starlette), and with it the watch."""
        runtime = self.service.runtime
        limit = runtime.settings.task_timeout_s + 5.0
        try:
            last = None
            async with aclosing(follow(self.service, task, deadline_s=limit)) as updates:
                async for update in updates:
                    if update is None:
                        yield stream.keepalive
                        continue
                    last = update
                    view = await self.heavy(view_for, update.task, runtime, base)
                    previews = []
                    if update.previews:
                        previews = await self.heavy(
                            preview_views, update.task, update.previews, update.first_preview,
                            runtime, base,
                        )  # fmt: skip
                    chunk = stream.render_update(view, previews, incoming)
                    if chunk:
                        yield chunk
            if last is None or not last.finished:
                raise steps.timed_out(task)
            view = await self.heavy(view_for, last.task, runtime, base, with_data=with_data)
            yield stream.render_end(view, incoming)
        except Exception as exc:  # the status line is sent: the error goes in the stream
            log.warning("a streamed answer ended in an error", exc_info=True)
            yield stream.render_error(error_info(exc), incoming)


def _every_file(incoming: Incoming) -> dict[str, bytes]:
    """The files a repeat is told apart by: each part of a repeated name counts."""
    files = dict(incoming.files)
    for name, parts in incoming.file_parts.items():
        if len(parts) > 1:
            files.update({f"{name}#{index}": part for index, part in enumerate(parts)})
    return files


def _views(tasks: list[Task], runtime: Runtime, base: str) -> list[TaskView]:
    return [view_for(task, runtime, base) for task in tasks]


def _refuse_control_characters(values: Mapping[str, str]) -> None:
    """A path parameter (a task id) never holds a control character; NUL would reach
    the database as an outage rather than a 404."""
    for name, value in values.items():
        if not value.isprintable():
            raise InputError(
                ErrorCode.INVALID_PARAMETER,
                f"{name} holds a control character; send the id as it was given",
                field=name,
            )


def answer_response(answer: Answer) -> Response:
    headers = dict(answer.headers)
    if answer.chunks is not None:
        return StreamingResponse(answer.chunks, answer.status, headers, answer.media_type)
    if answer.content is not None:
        return Response(answer.content, answer.status, headers, media_type=answer.media_type)
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def render_error(door: Door | None, info: ErrorInfo, rid: str) -> JSONResponse:
    """``info`` in ``door``'s shape (the native one when no door owns the path)."""
    if door is None:
        status = NATIVE_STATUS[info.code]
        body = native_error_body(info, rid)
        return JSONResponse(body, status_code=status, headers=dict(info.headers))
    answer = door.render_error(info, rid)
    headers = {**info.headers, **answer.headers}
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def door_for_path(path: str) -> Door | None:
    """The door whose namespace holds ``path`` (longest prefix wins), else None."""
    best: tuple[int, Door | None] = (0, None)
    for door in DOORS.values():
        for prefix in door.namespaces:
            if path.startswith(prefix) and len(prefix) > best[0]:
                best = (len(prefix), door)
    return best[1]


# --- installing doors ---------------------------------------------------------------------


def routes_of(operation: Operation) -> list[tuple[str, str]]:
    """(method, path) pairs an operation answers on."""
    if isinstance(operation, Create):
        return [("POST", operation.path)]
    if isinstance(operation, GetTask | ListTasks):
        return [("GET", operation.path)]
    if isinstance(operation, CancelTask):
        return [("DELETE", operation.path)]
    return [("GET", path) for path in operation.paths]


def install(app: FastAPI, handler: Handler, door: Door) -> None:
    """Add ``door``'s routes to ``app``, each running through ``handler``."""
    handler.limiter(door)  # built now, so it is there to be inspected
    for operation in door.operations:
        for index, (method, path) in enumerate(routes_of(operation)):
            app.router.add_api_route(
                path,
                _endpoint(handler, door, operation),
                methods=[method],
                tags=[door.tag],
                summary=operation.summary,
                description=getattr(operation, "description", "") or operation.summary,
                include_in_schema=index == 0,
                openapi_extra=_openapi(door, operation),
                response_class=JSONResponse,
                responses=_streamed_responses(operation),
                name=f"{door.name}:{method.lower()}:{path}",
                route_class_override=DoorRoute,
            )


class DoorRoute(APIRoute):
    """A door's route: FastAPI documents it (OpenAPI), and a request goes straight to the
    handler, which reads the body, renders every answer and catches every error itself.

    FastAPI's own request path (solving the endpoint's dependencies, two exit stacks,
    Starlette's per-route exception wrapper) did nothing for these endpoints, which take
    the bare request, and cost about as much as the handler's own work on the event loop.
    An exception that escapes anyway reaches the app's exception middleware as before.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.app = _bare(endpoint)


def _bare(endpoint: Callable[[Request], Any]) -> Callable[[Scope, Receive, Send], Any]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


def _endpoint(handler: Handler, door: Door, operation: Operation) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await handler.run(door, operation, request)

    return endpoint


def _openapi(door: Door, operation: Operation) -> dict[str, Any]:
    extra: dict[str, Any] = {"security": [{door.auth.name: []}]}
    if isinstance(operation, Create) and operation.fields is not None:
        schema = operation.fields.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        content: dict[str, Any] = {}
        if operation.body.kind.value in ("json", "form_or_json"):
            content["application/json"] = {"schema": schema}
        if operation.body.kind.value in ("form", "form_or_json"):
            content["multipart/form-data"] = {"schema": schema}
        extra["requestBody"] = {"required": True, "content": content}
    return extra


def _streamed_responses(operation: Operation) -> dict[int | str, dict[str, Any]] | None:
    """A create that can stream documents its streamed media type beside JSON."""
    if not isinstance(operation, Create) or operation.stream is None:
        return None
    media_type = operation.stream.media_type
    return {200: {"content": {"application/json": {}, media_type: {}}}}


def security_schemes() -> dict[str, Any]:
    """Every registered door's security scheme, for ``components.securitySchemes``."""
    return {door.auth.name: door.auth.openapi() for door in DOORS.values()}


# --- callbacks ----------------------------------------------------------------------------


def render_callback(task: Task, event: str, runtime: Runtime, fallback_base: str) -> dict[str, Any]:
    """A callback body in the shape of the door the task came in by, its result URLs under
    the base its request came in on."""
    base = str(task.meta.get(PUBLIC_BASE_META) or fallback_base)
    configured = runtime.settings.public_url
    if configured:
        base = configured.rstrip("/")
    view = view_for(task, runtime, base)
    door = DOORS.get(task.dialect)
    if door is not None and door.callback is not None:
        return door.callback(view, event)
    return native_callback_body(view, event)
