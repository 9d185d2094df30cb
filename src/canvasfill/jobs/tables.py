"""The durable records: tasks, API keys, idempotency keys and callback deliveries.

The task row is the truth about a piece of work; a queue message only says "look at
task X". Schema changes go through Alembic (``jobs/migrations``), never ``create_all``,
so a deployed database is upgraded in place at start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    """A caller. Only the key's SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    """The key's first characters, so people can tell keys apart in ``keys list``."""
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    credits: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Remaining credits; None means unlimited."""
    webhook_secret: Mapped[str] = mapped_column(String(100))
    """Signs this key's callbacks (Standard Webhooks ``whsec_...``)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_key_seq", "key_id", "seq"),
        Index("ix_tasks_status", "status"),
        Index("ix_tasks_expires", "results_expire_at"),
        Index("ix_tasks_external", "key_id", "dialect", "external_id", unique=True),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Insertion order: newest-first listing and cursors use it."""
    id: Mapped[str] = mapped_column(String(40), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    dialect: Mapped[str] = mapped_column(String(32), default="native")
    """Which door accepted it, so callbacks are rendered in the caller's shape."""
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    operation: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The ``JobSpec`` as JSON (seed already concrete)."""
    image_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    mask_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    has_mask: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """``host:pid`` of the process running it, so a stuck one can be stopped."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """While running: until when its worker holds it (renewed by a heartbeat). A lapsed
    lease means the worker died; the sweeper queues the task again."""
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the sweeper last published the queued task again (None: only at acceptance)."""
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the caller asked to cancel the task while it ran: its worker (on any node)
    reads it between the engine's steps, stops and records the task ``canceled``."""
    engine: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger)
    """Up to 4294967294: more than a 32-bit signed INTEGER holds on PostgreSQL."""
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_field: Mapped[str | None] = mapped_column(String(64), nullable=True)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``[{key, width, height, format}]``: blob keys, signed into URLs when rendered."""
    ignored: Mapped[list[str]] = mapped_column(JSON, default=list)
    results_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    results_expired: Mapped[bool] = mapped_column(Boolean, default=False)
    cost: Mapped[int] = mapped_column(Integer, default=0)
    """Credits held at acceptance: kept on success, given back on failure or cancel."""
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    callback_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The newest callback delivery's state (``DeliveryState``), None when none was sent."""
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    notify_on: Mapped[str] = mapped_column(String(16), default="finish")
    """``finish`` (callbacks when the task ends) or ``change`` (every state change)."""
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What a dialect needs to render the task later (its own request options)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IdempotencyRecord(Base):
    """``Idempotency-Key`` → the task it created, with the request's fingerprint."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("key_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallbackDelivery(Base):
    """One webhook message for one task event, retried until delivered or given up."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """The ``webhook-id``: the same on every retry, so receivers can de-duplicate."""
    task_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
