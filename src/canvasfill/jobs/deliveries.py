"""The callback outbox: one delivery per task event, written with the change it reports.

``queue`` runs inside the transaction that changes a task's state, so a state change
and the promise to announce it are stored together or not at all. The callback sender
(``callbacks.py``) reads due deliveries here and records each attempt's outcome, on the
delivery and on its task.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from canvasfill.jobs.database import SessionFactory, rowcount
from canvasfill.jobs.tables import CallbackDelivery, DeliveryState, Task, utcnow


def queue(session: Session, task: Task, status: str, now: datetime) -> None:
    """Queue a ``task.<status>`` delivery for ``task`` in the caller's transaction."""
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
            next_attempt_at=now,
            created_at=now,
        )
    )
    # by statement, not through the object: a task from a Core UPDATE ... RETURNING
    # (``tasks._task_of``) is not tracked by the session, and would not be flushed
    session.execute(
        update(Task)
        .where(Task.id == task.id)
        .values(callback_state=DeliveryState.PENDING.value)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(task, "callback_state", DeliveryState.PENDING.value)


class DeliveryStore:
    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._now = clock

    def due(
        self, limit: int = 20, after: tuple[datetime, str] | None = None
    ) -> list[CallbackDelivery]:
        """Pending deliveries whose (next) attempt is due, oldest first, and only the
        first pending one of each task: a task's events reach its receiver in the order
        they happened, however many senders (threads, API nodes) run.

        ``after`` is the (``next_attempt_at``, ``id``) of the last row of the page before,
        so a sender can read on past deliveries it cannot send yet (their destination
        is busy) to those it can."""
        earlier = aliased(CallbackDelivery)
        pending_before = (
            select(earlier.id)
            .where(
                earlier.task_id == CallbackDelivery.task_id,
                earlier.state == DeliveryState.PENDING.value,
                or_(
                    earlier.created_at < CallbackDelivery.created_at,
                    and_(
                        earlier.created_at == CallbackDelivery.created_at,
                        earlier.id < CallbackDelivery.id,
                    ),
                ),
            )
            .exists()
        )
        query = select(CallbackDelivery).where(
            CallbackDelivery.state == DeliveryState.PENDING.value,
            CallbackDelivery.next_attempt_at <= self._now(),
            ~pending_before,
        )
        if after is not None:
            moment, last_id = after
            query = query.where(
                or_(
                    CallbackDelivery.next_attempt_at > moment,
                    and_(
                        CallbackDelivery.next_attempt_at == moment,
                        CallbackDelivery.id > last_id,
                    ),
                )
            )
        query = query.order_by(CallbackDelivery.next_attempt_at, CallbackDelivery.id)
        with self._sessions() as session:
            return list(session.scalars(query.limit(limit)))

    def take(self, delivery: CallbackDelivery, hold: timedelta) -> bool:
        """Hold a due delivery for ``hold`` so that no other sender (another API node)
        sends it meanwhile; False when another sender took it first. A sender that dies
        mid-send leaves it due again once the hold is over."""
        with self._sessions.begin() as session:
            changed = session.execute(
                update(CallbackDelivery)
                .where(
                    CallbackDelivery.id == delivery.id,
                    CallbackDelivery.state == DeliveryState.PENDING.value,
                    CallbackDelivery.next_attempt_at == delivery.next_attempt_at,
                )
                .values(next_attempt_at=self._now() + hold)
            )
            return rowcount(changed) == 1

    def for_task(self, task_id: str) -> list[CallbackDelivery]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(CallbackDelivery)
                    .where(CallbackDelivery.task_id == task_id)
                    .order_by(CallbackDelivery.created_at)
                )
            )

    def record(
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
