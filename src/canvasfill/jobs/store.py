"""The task store: every change of a task's state, each one a conditional SQL update.

Whoever changes a task says what state they expect it in (and, for a worker, which
attempt it is running); an update that finds the task elsewhere changes nothing. So a
worker that was timed out, a task canceled while queued, or a second copy of a task
after a crash can never overwrite a newer truth. Credits held for a task are given
back in the same transaction that fails or cancels it, and a callback delivery is
queued in the same transaction that changes the state it reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canvasfill.jobs import keys
from canvasfill.jobs.database import SessionFactory
from canvasfill.jobs.keys import rowcount
from canvasfill.jobs.models import (
    CallbackDelivery,
    DeliveryState,
    IdempotencyRecord,
    Task,
    TaskStatus,
    utcnow,
)
from canvasfill.jobs.spec import JobSpec

UNFINISHED = (TaskStatus.QUEUED.value, TaskStatus.RUNNING.value)
NOTIFY_FINISH = "finish"
NOTIFY_CHANGE = "change"


def new_task_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class NewTask:
    """Everything a door decided about a request, ready to be stored."""

    key_id: str
    spec: JobSpec
    has_mask: bool = False
    image_url: str | None = None
    mask_url: str | None = None
    callback_url: str | None = None
    notify_on: str = NOTIFY_FINISH
    dialect: str = "native"
    external_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    cost: int = 0
    task_id: str = field(default_factory=new_task_id)


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str
    """A hash of what the request asked for: the same key with another body is refused."""


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was used before with a different request."""


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

    def record(self) -> dict[str, Any]:
        """The JSON kept on the task (no ``watermark_key`` where there is none)."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


class TaskStore:
    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._now = clock

    # --- accepting ---------------------------------------------------------------

    def find_idempotent(self, key_id: str, idem: Idempotency, ttl: timedelta) -> Task | None:
        """The task an earlier request with this key made (within ``ttl``), if any."""
        with self._sessions() as session:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.key_id == key_id,
                    IdempotencyRecord.idempotency_key == idem.key,
                    IdempotencyRecord.created_at > self._now() - ttl,
                )
            )
            if record is None:
                return None
            if record.fingerprint != idem.fingerprint:
                raise IdempotencyConflictError(idem.key)
            return session.scalar(select(Task).where(Task.id == record.task_id))

    def create(
        self,
        new: NewTask,
        idempotency: Idempotency | None = None,
        idempotency_ttl: timedelta = timedelta(hours=24),
    ) -> tuple[Task, bool]:
        """Store a new task, holding its credits; returns (task, created).

        With an idempotency key already used (a concurrent twin of this request won),
        nothing is stored and the twin's task comes back with ``created`` False.
        Raises ``keys.InsufficientCreditsError`` when the key cannot pay.
        """
        now = self._now()
        task = Task(
            id=new.task_id,
            key_id=new.key_id,
            dialect=new.dialect,
            external_id=new.external_id,
            operation=new.spec.operation.value,
            spec=new.spec.model_dump(mode="json"),
            image_url=new.image_url,
            mask_url=new.mask_url,
            has_mask=new.has_mask,
            status=TaskStatus.QUEUED.value,
            progress=0,
            attempts=0,
            engine=new.spec.engine,
            seed=new.spec.seed,
            results=[],
            ignored=[],
            results_expired=False,
            cost=new.cost,
            callback_url=new.callback_url,
            callback_attempts=0,
            notify_on=new.notify_on,
            meta=dict(new.meta),
            created_at=now,
            updated_at=now,
        )
        try:
            with self._sessions.begin() as session:
                if idempotency is not None:
                    # an expired record would block the unique key: it no longer counts
                    session.execute(
                        delete(IdempotencyRecord).where(
                            IdempotencyRecord.key_id == new.key_id,
                            IdempotencyRecord.idempotency_key == idempotency.key,
                            IdempotencyRecord.created_at <= now - idempotency_ttl,
                        )
                    )
                    session.add(
                        IdempotencyRecord(
                            key_id=new.key_id,
                            idempotency_key=idempotency.key,
                            fingerprint=idempotency.fingerprint,
                            task_id=task.id,
                            created_at=now,
                        )
                    )
                    session.flush()
                keys.reserve(session, new.key_id, new.cost)
                session.add(task)
        except IntegrityError:
            if idempotency is None:
                raise
            existing = self.find_idempotent(new.key_id, idempotency, idempotency_ttl)
            if existing is None:
                raise
            return existing, False
        return task, True

    # --- reading -----------------------------------------------------------------

    def get(self, task_id: str) -> Task | None:
        with self._sessions() as session:
            return session.scalar(select(Task).where(Task.id == task_id))

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

    def claim(self, task_id: str, worker: str, max_attempts: int) -> Claim | None:
        """Start an attempt at the task; None when it is finished or claimed by another.

        A task still marked running (its worker died) is taken over. A task that has
        already been started ``max_attempts`` times fails instead: something in it
        kills workers, and it must not take the pool down forever.
        """
        with self._sessions.begin() as session:
            task = session.scalar(select(Task).where(Task.id == task_id))
            if task is None or task.status not in UNFINISHED:
                return None
            seen_attempts = task.attempts
            if seen_attempts >= max_attempts:
                self._finish(
                    session,
                    task_id,
                    _failure(
                        "worker_crashed",
                        f"the task was started {seen_attempts} times and its worker "
                        "stopped each time; it will not be tried again",
                    ),
                    expected=UNFINISHED,
                    refund=True,
                )
                return None
            now = self._now()
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
                    progress=0,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(changed) != 1:
                return None
            session.expire(task)
            task = session.scalar(select(Task).where(Task.id == task_id))
            assert task is not None
            if task.notify_on == NOTIFY_CHANGE:
                self._queue_delivery(session, task, TaskStatus.RUNNING.value)
            return Claim(task=task, attempt=seen_attempts + 1)

    def set_progress(self, task_id: str, attempt: int, percent: int) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Task)
                .where(
                    Task.id == task_id,
                    Task.attempts == attempt,
                    Task.status == TaskStatus.RUNNING.value,
                )
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
        code: str,
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

    def requeue_running(self) -> int:
        """At start-up: tasks a dead process left running go back to the queue."""
        with self._sessions.begin() as session:
            changed = session.execute(
                update(Task)
                .where(Task.status == TaskStatus.RUNNING.value)
                .values(status=TaskStatus.QUEUED.value, worker=None, updated_at=self._now())
            )
            return rowcount(changed)

    def fail_overdue(self, timeout: timedelta, ttl: timedelta) -> list[Task]:
        """Fail tasks running longer than ``timeout``; returns them (their workers to stop)."""
        cutoff = self._now() - timeout
        with self._sessions() as session:
            overdue = list(
                session.scalars(
                    select(Task).where(
                        Task.status == TaskStatus.RUNNING.value, Task.started_at < cutoff
                    )
                )
            )
        failed = []
        for task in overdue:
            message = (
                f"the task ran longer than its {timeout.total_seconds():g} s limit and was "
                "stopped; try a smaller image, fewer images or a faster engine"
            )
            if self.fail(task.id, "timeout", message, ttl, attempt=task.attempts):
                failed.append(task)
        return failed

    def expire_due(self, idempotency_ttl: timedelta = timedelta(hours=24)) -> list[str]:
        """Mark finished tasks whose results are past their expiry; returns their ids.

        Idempotency keys older than ``idempotency_ttl`` are dropped on the way.
        """
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
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.created_at <= now - idempotency_ttl
                )
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
        conditions = [Task.id == task_id, Task.status.in_(expected)]
        if attempt is not None:
            conditions.append(Task.attempts == attempt)
        changed = session.execute(
            update(Task)
            .where(*conditions)
            .values(**values, finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(changed) != 1:
            return False
        task = session.scalar(
            select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
        )
        assert task is not None
        if refund:
            keys.refund(session, task.key_id, task.cost)
        self._queue_delivery(session, task, task.status)
        return True

    # --- callback deliveries --------------------------------------------------------

    def _queue_delivery(self, session: Session, task: Task, status: str) -> None:
        if not task.callback_url:
            return
        session.add(
            CallbackDelivery(
                id=f"msg_{uuid.uuid4().hex}",
                task_id=task.id,
                event=f"task.{status}",
                url=task.callback_url,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=self._now(),
                created_at=self._now(),
            )
        )
        task.callback_state = DeliveryState.PENDING.value

    def due_deliveries(self, limit: int = 20) -> list[CallbackDelivery]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(CallbackDelivery)
                    .where(
                        CallbackDelivery.state == DeliveryState.PENDING.value,
                        CallbackDelivery.next_attempt_at <= self._now(),
                    )
                    .order_by(CallbackDelivery.next_attempt_at)
                    .limit(limit)
                )
            )

    def deliveries_for(self, task_id: str) -> list[CallbackDelivery]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(CallbackDelivery)
                    .where(CallbackDelivery.task_id == task_id)
                    .order_by(CallbackDelivery.created_at)
                )
            )

    def record_delivery(
        self,
        delivery_id: str,
        state: DeliveryState,
        *,
        status: int | None,
        error: str | None,
        retry_at: datetime | None = None,
    ) -> None:
        """Record one attempt's outcome on the delivery and on its task."""
        now = self._now()
        with self._sessions.begin() as session:
            delivery = session.get(CallbackDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.state = state.value
            delivery.last_status = status
            delivery.last_error = error
            if retry_at is not None:
                delivery.next_attempt_at = retry_at
            if state is DeliveryState.DELIVERED:
                delivery.delivered_at = now
            session.execute(
                update(Task)
                .where(Task.id == delivery.task_id)
                .values(callback_state=state.value, callback_attempts=delivery.attempts)
            )


def _failure(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "status": TaskStatus.FAILED.value,
        "error_code": code,
        "error_message": message,
        "error_field": field,
    }
