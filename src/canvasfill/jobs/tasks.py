"""The task store: every change of a task's state, each one a conditional SQL update.

Whoever changes a task says what state they expect it in (and, for a worker, which
attempt it is running); an update that finds the task elsewhere changes nothing. So a
worker that was timed out, a task canceled while queued, or a second copy of a task
after a crash can never overwrite a newer truth. Credits held for a task are given
back in the same transaction that fails or cancels it, and a callback delivery is
queued (``deliveries.queue``) in the same transaction that changes the state it
reports. Idempotency records (``idempotency.py``) are written with the task they name.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Row,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canvasfill.errors import ErrorCode, InputError
from canvasfill.jobs import deliveries, idempotency, keys
from canvasfill.jobs.database import SessionFactory, rowcount
from canvasfill.jobs.idempotency import Idempotency
from canvasfill.jobs.submission import Notify, Submission
from canvasfill.jobs.tables import Task, TaskStatus, utcnow

UNFINISHED = (TaskStatus.QUEUED.value, TaskStatus.RUNNING.value)


def new_task_id() -> str:
    return str(uuid.uuid4())


class ExternalIdTakenError(InputError):
    """The key already has a task with this ``external_id`` (Kling's ``external_task_id``)."""

    def __init__(self, external_id: str, task_id: str) -> None:
        super().__init__(
            ErrorCode.EXTERNAL_ID_TAKEN,
            f"external_task_id {external_id!r} is already used by task {task_id}",
            field="external_task_id",
        )
        self.task_id = task_id


@dataclass(frozen=True)
class Claim:
    task: Task
    attempt: int


@dataclass(frozen=True)
class ResultBlob:
    key: str
    width: int
    height: int
    format: str
    watermark_key: str | None = None
    """The visibly watermarked copy, when the spec asked for one."""
    mask_key: str | None = None
    """The mask the fill used (a removal's painted and detected mask; a mask task's own
    result), one blob shared by every result of the task: the task's ``mask`` URL."""

    def record(self) -> dict[str, Any]:
        """The JSON kept on the task (no ``watermark_key`` where there is none)."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


class TaskStore:
    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._now = clock

    # --- accepting ---------------------------------------------------------------

    def find_unfinished_by_meta(
        self, key_id: str, name: str, value: str, since: datetime
    ) -> Task | None:
        """The key's newest queued or running task created after ``since`` whose
        ``meta[name]`` is ``value`` (a key has few unfinished tasks: filtered here)."""
        with self._sessions() as session:
            candidates = session.scalars(
                select(Task)
                .where(
                    Task.key_id == key_id,
                    Task.status.in_(UNFINISHED),
                    Task.created_at >= since,
                )
                .order_by(Task.created_at.desc())
            )
            for task in candidates:
                if (task.meta or {}).get(name) == value:
                    return task
        return None

    def create(
        self,
        task_id: str,
        key_id: str,
        submission: Submission,
        cost: int,
        idem: Idempotency | None = None,
        idempotency_ttl: timedelta = timedelta(hours=24),
        *,
        limited_key: bool = True,
    ) -> tuple[Task, bool]:
        """Store a new task, holding its credits; returns (task, created).

        ``limited_key``: whether the key had a credit limit when it was authorized (a
        hint that saves a statement: ``keys.reserve``).

        With an idempotency key already used (a concurrent twin of this request won),
        nothing is stored and the twin's task comes back with ``created`` False. Raises
        ``keys.InsufficientCreditsError`` when the key cannot pay and
        ``ExternalIdTakenError`` when the key already has a task with its external id
        (a unique constraint decides between concurrent twins).
        """
        now = self._now()
        spec = submission.spec
        values: dict[str, Any] = {
            "id": task_id,
            "key_id": key_id,
            "dialect": submission.dialect,
            "external_id": submission.external_id,
            "operation": spec.kind,
            "spec": spec.model_dump(mode="json"),
            "image_url": submission.image_url,
            "mask_url": submission.mask_url,
            "has_mask": submission.has_mask,
            "status": TaskStatus.QUEUED.value,
            "progress": 0,
            "attempts": 0,
            "engine": spec.engine,
            "seed": spec.seed,
            "results": [],
            "ignored": [],
            "results_expired": False,
            "cost": cost,
            "callback_url": submission.callback_url,
            "callback_attempts": 0,
            "notify_on": submission.notify_on.value,
            "meta": dict(submission.meta),
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._sessions.begin() as session:
                if idem is not None:
                    idempotency.remember(session, key_id, idem, task_id, now, idempotency_ttl)
                keys.reserve(session, key_id, cost, limited=limited_key)
                # a plain INSERT: the ORM's unit of work cost more than the statement
                inserted = session.execute(_INSERT, values)
                assert isinstance(inserted, CursorResult)
                primary_key = inserted.inserted_primary_key
                assert primary_key is not None
                task = Task(seq=primary_key[0], **values)
        except IntegrityError:
            with self._sessions() as session:
                if idem is not None:
                    twin = idempotency.find(session, key_id, idem, now - idempotency_ttl)
                    if twin is not None:
                        return twin, False
            if submission.external_id is not None:
                taken = self.find_external(key_id, submission.dialect, submission.external_id)
                if taken is not None:
                    raise ExternalIdTakenError(submission.external_id, taken.id) from None
            raise
        return task, True

    # --- reading -----------------------------------------------------------------

    def get(self, task_id: str) -> Task | None:
        with self._sessions.connect() as connection:
            row = connection.execute(_BY_ID, {"task_id": task_id}).first()
        return None if row is None else _task_of(row)

    def find_external(self, key_id: str, dialect: str, external_id: str) -> Task | None:
        with self._sessions() as session:
            return session.scalar(
                select(Task)
                .where(
                    Task.key_id == key_id,
                    Task.dialect == dialect,
                    Task.external_id == external_id,
                )
                .order_by(Task.seq.desc())
                .limit(1)
            )

    def list_for_key(
        self,
        key_id: str,
        limit: int,
        *,
        before_seq: int | None = None,
        offset: int = 0,
        dialect: str | None = None,
    ) -> list[Task]:
        """The key's tasks, newest first, after the cursor ``before_seq`` or an offset."""
        query = select(Task).where(Task.key_id == key_id)
        if before_seq is not None:
            query = query.where(Task.seq < before_seq)
        if dialect is not None:
            query = query.where(Task.dialect == dialect)
        query = query.order_by(Task.seq.desc()).offset(offset).limit(limit)
        with self._sessions() as session:
            return list(session.scalars(query))

    def count_by_status(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(select(Task.status, func.count()).group_by(Task.status))
            return {str(row[0]): int(row[1]) for row in rows}

    def ids_with_status(self, *statuses: str) -> list[str]:
        """Ids of the tasks in any of ``statuses``, oldest first."""
        with self._sessions() as session:
            query = select(Task.id).where(Task.status.in_(statuses)).order_by(Task.seq)
            return list(session.scalars(query))

    # --- state changes -------------------------------------------------------------

    def cancel(self, task_id: str) -> bool:
        """Cancel a task that has not started; False when it already has (or is gone)."""
        with self._sessions.begin() as session:
            return self._finish(
                session,
                task_id,
                {"status": TaskStatus.CANCELED.value},
                expected=(TaskStatus.QUEUED.value,),
                refund=True,
            )

    def request_cancel(self, task_id: str) -> bool:
        """Ask the worker running the task to stop; False when it is not running.

        The mark is the task record's ``cancel_requested_at``: the worker reads it between
        the engine's steps (``cancel_requested``) and records the task ``canceled`` with
        its credits given back (``stop_canceled``). Asking twice keeps the first time.
        """
        now = self._now()
        with self._sessions.begin() as session:
            changed = session.execute(
                update(Task)
                .where(Task.id == task_id, Task.status == TaskStatus.RUNNING.value)
                .values(
                    cancel_requested_at=func.coalesce(Task.cancel_requested_at, now),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            return rowcount(changed) == 1

    def cancel_requested(self, task_id: str) -> bool:
        """Whether the caller asked to cancel the task (one indexed column read)."""
        with self._sessions() as session:
            marked = session.scalar(select(Task.cancel_requested_at).where(Task.id == task_id))
            return marked is not None

    def stop_canceled(self, task_id: str, attempt: int) -> bool:
        """Record that ``attempt`` stopped on a cancel request: ``canceled``, credits back."""
        with self._sessions.begin() as session:
            return self._finish(
                session,
                task_id,
                {"status": TaskStatus.CANCELED.value},
                expected=(TaskStatus.RUNNING.value,),
                attempt=attempt,
                refund=True,
            )

    def claim(self, task_id: str, worker: str, max_attempts: int, lease: timedelta) -> Claim | None:
        """Start an attempt at the task, holding it for ``lease``; None when it is
        finished or another worker holds it.

        A running task whose lease lapsed (its worker died) is taken over; one whose
        lease is live is left alone, so a duplicate message is harmless. A task that has
        already been started ``max_attempts`` times fails instead: something in it
        kills workers, and it must not take the pool down forever.
        """
        with self._sessions.begin() as session:
            now = self._now()
            fresh = _claim_queued(session, task_id, worker, max_attempts, now + lease, now)
            if fresh is not None:
                if fresh.notify_on == Notify.CHANGE:
                    deliveries.queue(session, fresh, TaskStatus.RUNNING.value, now)
                return Claim(task=fresh, attempt=fresh.attempts)
            task = session.scalar(select(Task).where(Task.id == task_id))
            if task is None or task.status not in UNFINISHED:
                return None
            if task.status == TaskStatus.RUNNING.value and _holds(task.lease_until, now):
                return None
            seen_attempts = task.attempts
            if task.cancel_requested_at is not None:  # asked to stop, then its worker died
                self._finish(
                    session,
                    task_id,
                    {"status": TaskStatus.CANCELED.value},
                    expected=UNFINISHED,
                    refund=True,
                )
                return None
            if seen_attempts >= max_attempts:
                self._finish(
                    session,
                    task_id,
                    _failure(
                        ErrorCode.WORKER_CRASHED,
                        f"the task was started {seen_attempts} times and its worker "
                        "stopped each time; it will not be tried again",
                    ),
                    expected=UNFINISHED,
                    refund=True,
                )
                return None
            changed = session.execute(
                update(Task)
                .where(
                    Task.id == task_id,
                    Task.attempts == seen_attempts,
                    Task.status.in_(UNFINISHED),
                )
                .values(
                    status=TaskStatus.RUNNING.value,
                    attempts=seen_attempts + 1,
                    started_at=now,
                    updated_at=now,
                    worker=worker,
                    lease_until=now + lease,
                    progress=0,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(changed) != 1:
                return None
            session.expire(task)
            task = session.scalar(select(Task).where(Task.id == task_id))
            assert task is not None
            if task.notify_on == Notify.CHANGE:
                deliveries.queue(session, task, TaskStatus.RUNNING.value, now)
            return Claim(task=task, attempt=seen_attempts + 1)

    def set_progress(self, task_id: str, attempt: int, percent: int) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Task)
                .where(*_running(task_id, attempt))
                .values(progress=max(0, min(99, percent)), updated_at=self._now())
            )

    def succeed(
        self,
        task_id: str,
        attempt: int,
        results: Iterable[ResultBlob],
        engine: str,
        ignored: Iterable[str],
        ttl: timedelta,
    ) -> bool:
        """Record the results of ``attempt``; False when that attempt no longer owns it."""
        values: dict[str, Any] = {
            "status": TaskStatus.SUCCEEDED.value,
            "results": [result.record() for result in results],
            "engine": engine,
            "ignored": sorted(ignored),
            "progress": 100,
            "results_expire_at": self._now() + ttl,
        }
        with self._sessions.begin() as session:
            return self._finish(
                session,
                task_id,
                values,
                expected=(TaskStatus.RUNNING.value,),
                attempt=attempt,
                refund=False,
            )

    def fail(
        self,
        task_id: str,
        code: ErrorCode,
        message: str,
        ttl: timedelta,
        *,
        field: str | None = None,
        attempt: int | None = None,
    ) -> bool:
        """Fail an unfinished task (only ``attempt``'s, when given) and refund its credits."""
        values = _failure(code, message, field)
        values["results_expire_at"] = self._now() + ttl
        with self._sessions.begin() as session:
            return self._finish(
                session, task_id, values, expected=UNFINISHED, attempt=attempt, refund=True
            )

    def renew_lease(self, task_id: str, attempt: int, lease: timedelta) -> bool:
        """Extend ``attempt``'s hold on the task; False when it no longer runs it."""
        with self._sessions.begin() as session:
            changed = session.execute(
                update(Task)
                .where(*_running(task_id, attempt))
                .values(lease_until=self._now() + lease)
            )
            return rowcount(changed) == 1

    def requeue_lapsed(self, max_attempts: int, ttl: timedelta) -> tuple[list[str], list[str]]:
        """Running tasks whose lease lapsed go back to the queue, or fail once they were
        started ``max_attempts`` times; returns (requeued ids, failed ids)."""
        now = self._now()
        with self._sessions() as session:
            lapsed = list(
                session.execute(
                    select(Task.id, Task.attempts).where(
                        Task.status == TaskStatus.RUNNING.value,
                        (Task.lease_until.is_(None)) | (Task.lease_until <= now),
                    )
                )
            )
        requeued, failed = [], []
        for task_id, attempts in lapsed:
            if attempts >= max_attempts:
                message = (
                    f"the task was started {attempts} times and its worker stopped each "
                    "time; it will not be tried again"
                )
                if self.fail(task_id, ErrorCode.WORKER_CRASHED, message, ttl, attempt=attempts):
                    failed.append(task_id)
                continue
            with self._sessions.begin() as session:
                changed = session.execute(
                    update(Task)
                    .where(
                        *_running(task_id, attempts),
                        (Task.lease_until.is_(None)) | (Task.lease_until <= now),
                    )
                    .values(_requeued(now))
                )
                if rowcount(changed) == 1:
                    requeued.append(task_id)
        return requeued, failed

    def release(self, task_ids: Iterable[str], host: str) -> list[str]:
        """Queue again those of ``task_ids`` running on ``host``, whose processes are
        known to be gone (a dispatcher's own dead workers); returns their ids."""
        ids = list(task_ids)
        if not ids:
            return []
        now = self._now()
        with self._sessions.begin() as session:
            running = list(
                session.scalars(
                    select(Task.id).where(
                        Task.id.in_(ids),
                        Task.status == TaskStatus.RUNNING.value,
                        Task.worker.startswith(f"{host}:", autoescape=True),
                    )
                )
            )
            if running:
                session.execute(
                    update(Task)
                    .where(Task.id.in_(running), Task.status == TaskStatus.RUNNING.value)
                    .values(_requeued(now))
                )
        return running

    def due_for_dispatch(self, waited: timedelta) -> list[str]:
        """Queued tasks published ``waited`` ago or earlier that nobody started (their
        message may be lost); each is marked published now, and their ids returned."""
        now = self._now()
        cutoff = now - waited
        last = func.coalesce(Task.dispatched_at, Task.created_at)
        with self._sessions.begin() as session:
            ids = list(
                session.scalars(
                    select(Task.id)
                    .where(Task.status == TaskStatus.QUEUED.value, last <= cutoff)
                    .order_by(Task.seq)
                )
            )
            if ids:
                session.execute(
                    update(Task)
                    .where(Task.id.in_(ids), Task.status == TaskStatus.QUEUED.value)
                    .values(dispatched_at=now)
                )
        return ids

    def fail_overdue(self, timeout: timedelta, lease: timedelta, ttl: timedelta) -> list[Task]:
        """Fail tasks that ran longer than ``timeout``; returns them (their workers to stop).

        Only a task whose worker was still alive past the limit counts: its lease is
        live, or it was renewed (``lease_until - lease``) after the deadline. A task
        whose worker died before its deadline is not overdue, however long ago it
        started (an outage, say): its lapsed lease is ``requeue_lapsed``'s to queue
        again while attempts remain.
        """
        now = self._now()
        with self._sessions() as session:
            running = list(
                session.scalars(
                    select(Task).where(
                        Task.status == TaskStatus.RUNNING.value, Task.started_at < now - timeout
                    )
                )
            )
        failed = []
        for task in running:
            if not _ran_past(task, timeout, lease, now):
                continue
            message = (
                f"the task ran longer than its {timeout.total_seconds():g} s limit and was "
                "stopped; try a smaller image, fewer images or a faster engine"
            )
            if self.fail(task.id, ErrorCode.TIMEOUT, message, ttl, attempt=task.attempts):
                failed.append(task)
        return failed

    def expire_due(self) -> list[str]:
        """Mark finished tasks whose results are past their expiry; returns their ids."""
        now = self._now()
        with self._sessions.begin() as session:
            ids = list(
                session.scalars(
                    select(Task.id).where(
                        Task.results_expire_at <= now, Task.results_expired.is_(False)
                    )
                )
            )
            if ids:
                session.execute(
                    update(Task)
                    .where(Task.id.in_(ids))
                    .values(results_expired=True, results=[], updated_at=now)
                )
        return ids

    def _finish(
        self,
        session: Session,
        task_id: str,
        values: dict[str, Any],
        *,
        expected: tuple[str, ...],
        attempt: int | None = None,
        refund: bool,
    ) -> bool:
        now = self._now()
        returning = _returns_rows(session)
        statement = _finish_statement(
            tuple(sorted(values)), expected, with_attempt=attempt is not None, returning=returning
        )
        params = {**values, "finished_at": now, "updated_at": now, "task_id": task_id}
        if attempt is not None:
            params["attempt"] = attempt
        task: Task | None
        if returning:
            row = session.execute(statement, params).first()
            if row is None:
                return False
            task = _task_of(row)
        else:
            changed = session.execute(statement, params)
            if rowcount(changed) != 1:
                return False
            task = session.scalar(
                select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
            )
            assert task is not None
        if refund:
            keys.refund(session, task.key_id, task.cost)
        deliveries.queue(session, task, task.status, now)
        return True


def _returns_rows(session: Session) -> bool:
    """Whether the database answers ``UPDATE ... RETURNING`` (PostgreSQL, SQLite 3.35+):
    one statement then does what an update and a re-read did."""
    return bool(session.get_bind().dialect.update_returning)


def _claim_queued(
    session: Session,
    task_id: str,
    worker: str,
    max_attempts: int,
    lease_until: datetime,
    now: datetime,
) -> Task | None:
    """The usual claim in one statement: a queued task, not asked to stop and with
    attempts left, becomes running; None for anything else (the caller decides then)."""
    if not _returns_rows(session):
        return None
    params = {
        "task_id": task_id,
        "max_attempts": max_attempts,
        "started_at": now,
        "updated_at": now,
        "worker": worker,
        "lease_until": lease_until,
    }
    row = session.execute(_CLAIM_QUEUED, params).first()
    return None if row is None else _task_of(row)


def _task_of(row: Row[Any]) -> Task:
    """A task from a row of ``_TASKS`` (a detached copy: the session does not track it,
    so a change to it must be written with a statement of its own)."""
    return Task(**row._mapping)


# The statements of the hot path (a task's read, claim and outcome), built once with
# bound parameters: building one and computing its cache key cost more than running it
# (about half of a claim's 0.9 ms here).

# They are Core statements on the table, not ORM ones: the ORM's loading, its bulk
# UPDATE ... RETURNING and its unit of work cost more than the statements themselves
# (a table's own columns keep them Core; an ORM attribute would make them ORM again).
_TASKS = cast(Table, Task.__table__)
_COLUMNS = _TASKS.c

_BY_ID = select(*_COLUMNS).where(_COLUMNS.id == bindparam("task_id"))

_INSERT = insert(_TASKS)

_CLAIM_QUEUED = (
    update(_TASKS)
    .where(
        _COLUMNS.id == bindparam("task_id"),
        _COLUMNS.status == TaskStatus.QUEUED.value,
        _COLUMNS.cancel_requested_at.is_(None),
        _COLUMNS.attempts < bindparam("max_attempts"),
    )
    .values(
        status=TaskStatus.RUNNING.value,
        attempts=_COLUMNS.attempts + 1,
        started_at=bindparam("started_at"),
        updated_at=bindparam("updated_at"),
        worker=bindparam("worker"),
        lease_until=bindparam("lease_until"),
        progress=0,
    )
    .returning(*_COLUMNS)
)


@functools.lru_cache(maxsize=64)
def _finish_statement(
    names: tuple[str, ...], expected: tuple[str, ...], *, with_attempt: bool, returning: bool
) -> Any:
    """``UPDATE`` of an unfinished task to an outcome: the columns ``names`` (and
    ``finished_at``, ``updated_at``) from parameters of the same names, where ``task_id``
    is in one of the ``expected`` states (and at ``attempt``). With ``returning``, the
    task's row comes back."""
    conditions = [_COLUMNS.id == bindparam("task_id"), _COLUMNS.status.in_(expected)]
    if with_attempt:
        conditions.append(_COLUMNS.attempts == bindparam("attempt"))
    columns = (*names, "finished_at", "updated_at")
    statement = (
        update(_TASKS).where(*conditions).values({name: bindparam(name) for name in columns})
    )
    return statement.returning(*_COLUMNS) if returning else statement


def _holds(lease_until: datetime | None, now: datetime) -> bool:
    return lease_until is not None and lease_until > now


def _ran_past(task: Task, timeout: timedelta, lease: timedelta, now: datetime) -> bool:
    """Whether ``task``'s worker was alive after the task's deadline (see ``fail_overdue``)."""
    if task.started_at is None or task.lease_until is None:
        return False
    if _holds(task.lease_until, now):
        return True
    return task.lease_until - lease > task.started_at + timeout


def _requeued(now: datetime) -> dict[str, Any]:
    return {
        "status": TaskStatus.QUEUED.value,
        "worker": None,
        "lease_until": None,
        "dispatched_at": now,
        "progress": 0,
        "updated_at": now,
    }


def _running(task_id: str, attempt: int) -> tuple[ColumnElement[bool], ...]:
    """The conditions of an update that only ``attempt``, while it runs the task, may make."""
    return (
        Task.id == task_id,
        Task.attempts == attempt,
        Task.status == TaskStatus.RUNNING.value,
    )


def _failure(code: ErrorCode, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "status": TaskStatus.FAILED.value,
        "error_code": code.value,
        "error_message": message,
        "error_field": field,
    }
