"""A door, declared: what one hosted API (or the native one) looks like from outside.

A door is a translation, not a feature. Its module declares a :class:`Door` (routes,
auth scheme, how bodies are read, fields, ``parse`` and renderers) and registers it,
the way engines register themselves; ``api/handler.py`` drives every operation of every
door through the same steps. A door module holds no I/O and no store query: ``parse``
and the renderers are pure functions of what the handler hands them.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from canvasfill.api.auth import AuthScheme
from canvasfill.api.body import Body
from canvasfill.api.errors import ErrorInfo
from canvasfill.api.view import PreviewView, TaskView
from canvasfill.errors import ErrorCode
from canvasfill.jobs.idempotency import Idempotency
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import ApiKey


@dataclass(frozen=True)
class Incoming:
    """Everything a door's pure functions may read of one request."""

    fields: Mapping[str, Any]
    """Form text fields, or a JSON object's keys (a JSON body that is not an object is
    under ``""``)."""
    files: Mapping[str, bytes]
    headers: Mapping[str, str]
    """Lower-case names."""
    query: Mapping[str, str]
    path: Mapping[str, str]
    request_id: str
    json: Any = None
    """The JSON value as sent, when the body was JSON."""
    was_json: bool = False
    file_parts: Mapping[str, Sequence[bytes]] = field(default_factory=dict)
    """Every file part of each form name in the order sent (``files`` keeps the last):
    OpenAI's repeated ``image[]``."""


@dataclass(frozen=True)
class Answer:
    """What a door renders: a JSON body, its status and extra headers.

    With ``content``, the answer is those bytes as ``media_type`` instead (an image, as
    Stability answers ``Accept: image/*``) and ``body`` is not sent. With ``chunks``,
    the answer is streamed as ``media_type``, chunk by chunk as they come (a ``Create``
    with a ``stream``: the handler feeds them from the task's events).
    """

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    media_type: str = "application/json"
    chunks: AsyncIterator[bytes] | None = None


@dataclass(frozen=True)
class Stream:
    """How a ``Create`` answers while its task runs, when ``wanted``: a streamed answer
    of chunks rendered from the task's events (``api/follow.py``) instead of one body
    after a wait. Refusals before acceptance are answered as usual (status and body);
    anything that goes wrong once the stream has begun is a chunk of ``render_error``.
    """

    wanted: Callable[[Submission], bool]
    media_type: str
    render_update: Callable[[TaskView, Sequence[PreviewView], Incoming], bytes]
    """A change of the running task, with the previews stored since the last one (b""
    sends nothing). The finished task's update comes before ``render_end``."""
    render_end: Callable[[TaskView, Incoming], bytes]
    """The finished task (succeeded, failed or canceled), the last chunk."""
    render_error: Callable[[ErrorInfo, Incoming], bytes]
    keepalive: bytes = b": keep-alive\n\n"
    """Sent while nothing changes for a while (an SSE comment by default)."""
    headers: Mapping[str, str] = field(
        default_factory=lambda: {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


SYNC_WAIT = math.inf
"""A create's wait for a synchronous API: until the task ends (bounded by the task
timeout); a task still unfinished then is answered as ``timeout``."""


def synchronous(_incoming: Incoming, _submission: Submission) -> float:
    """``Create.wait_s`` of a synchronous API: wait for the end (``SYNC_WAIT``)."""
    return SYNC_WAIT


UNTIL_DONE = 1e9
"""As ``SYNC_WAIT``, but a task still unfinished is rendered as it is (PicWish's sync=1)."""

TaskRenderer = Callable[[TaskView, Incoming], Answer]


@dataclass(frozen=True)
class Create:
    """Accept a task: parse, accept (credits, idempotency), dispatch, maybe wait, render."""

    path: str
    summary: str
    body: Body
    parse: Callable[[Incoming], Submission]
    render: TaskRenderer
    """The task as it is after the wait (finished, or still queued or running)."""
    wait_s: Callable[[Incoming, Submission], float] = lambda _incoming, _submission: 0.0
    """0 answers at once; ``SYNC_WAIT`` waits for the end and answers ``timeout`` when
    it does not come (a synchronous API); another value waits at most that long."""
    idempotency: Callable[[Incoming, Submission], Idempotency | None] | None = None
    joins_repeats: Callable[[Submission], bool] = lambda _submission: False
    """A synchronous request retried while its task runs joins that task."""
    with_data: Callable[[Submission], bool] = lambda _submission: False
    """The answer carries the result bytes (base64)."""
    fields: type[BaseModel] | None = None
    """The fields as a model: documents the request body in OpenAPI."""
    description: str = ""
    stream: Stream | None = None
    """When the request asks for it, answer as the task runs (see :class:`Stream`)."""


@dataclass(frozen=True)
class GetTask:
    """One of the caller's tasks."""

    path: str
    summary: str
    render: TaskRenderer
    own_door_only: bool = True
    """Only tasks that came in by this door are found (dialects); native sees all."""
    by_external_id: bool = False
    """An id that names no task is tried as the caller's external id (Kling)."""
    with_data: Callable[[dict[str, Any]], bool] = lambda _meta: False
    """From the task's stored meta: whether the answer carries result bytes."""


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int = 0
    before_seq: int | None = None


@dataclass(frozen=True)
class ListTasks:
    """The caller's tasks, newest first, a page at a time."""

    path: str
    summary: str
    page: Callable[[Incoming], Page]
    render: Callable[[Sequence[TaskView], Page, Incoming], Answer]
    own_door_only: bool = True


@dataclass(frozen=True)
class CancelTask:
    """Cancel one of the caller's tasks: a queued one at once, a running one by asking its
    worker to stop (409 once it finished)."""

    path: str
    summary: str
    render: TaskRenderer


@dataclass(frozen=True)
class Account:
    """What the caller's key holds (credits, secrets), in the door's shape."""

    paths: tuple[str, ...]
    summary: str
    render: Callable[[ApiKey, Incoming], Answer]


Operation = Create | GetTask | ListTasks | CancelTask | Account


@dataclass(frozen=True)
class Door:
    name: str
    """The dialect name stored with its tasks (``native``, ``ailab``...)."""
    tag: str
    """The OpenAPI tag its routes are listed under."""
    auth: AuthScheme
    operations: tuple[Operation, ...]
    render_error: Callable[[ErrorInfo, str], Answer]
    """(the refusal, the request id) -> the door's error answer; must cover every
    ``ErrorCode`` (tests walk them all)."""
    namespaces: tuple[str, ...] = ()
    """Path prefixes that belong to this door: unknown paths and wrong methods there
    answer in its error shape."""
    callback: Callable[[TaskView, str], dict[str, Any]] | None = None
    """(the task's view, the event) -> a callback body; None: the native envelope."""
    rate_per_second: float | None = None
    """Requests per second per key where the hosted API has a rate of its own (PicWish:
    2); None: the service's rate limit."""


DOORS: dict[str, Door] = {}
"""Every registered door by name (filled as door modules are imported)."""


def register(door: Door) -> Door:
    """Register ``door`` (a door module does this at import)."""
    if door.name in DOORS and DOORS[door.name] is not door:
        raise ValueError(f"a door named {door.name!r} is already registered")
    DOORS[door.name] = door
    return door


Row = TypeVar("Row")


def exhaustive(table: Mapping[ErrorCode, Row], door: str) -> dict[ErrorCode, Row]:
    """``table`` checked to name every ``ErrorCode``: a new code must be given a row by
    every door before the service starts."""
    missing = sorted(code.value for code in ErrorCode if code not in table)
    if missing:
        raise RuntimeError(f"the {door} door's error table has no row for {missing}")
    return dict(table)


def rows(*groups: tuple[Sequence[ErrorCode], Row]) -> dict[ErrorCode, Row]:
    """A table from (codes, row) groups; a later group overrides an earlier one."""
    table: dict[ErrorCode, Row] = {}
    for codes, row in groups:
        table.update(dict.fromkeys(codes, row))
    return table
