"""Idempotency keys: a retried request gets the task its first attempt made.

A record maps (API key, ``Idempotency-Key``) to a task and to a fingerprint of what the
request asked for, so the same key sent with another body is refused rather than
answered with the wrong task. Records are written in the transaction that creates the
task (see ``tasks.TaskStore.create``); a unique constraint decides between concurrent
twins. Records older than the TTL no longer count and are deleted by the sweeper.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from canvasfill.jobs.database import SessionFactory, rowcount
from canvasfill.jobs.tables import IdempotencyRecord, Task, utcnow


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str
    """A hash of what the request asked for: the same key with another body is refused."""


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was used before with a different request."""


def fingerprint(request: dict[str, Any], *blobs: bytes | None) -> str:
    """A hash of what a request asks for.

    Built from the parsed fields and the input bytes, not the raw body, so the same
    upload sent twice (with a new multipart boundary) still matches.
    """
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode())
    for blob in blobs:
        digest.update(b"\0" if blob is None else hashlib.sha256(blob).digest())
    return digest.hexdigest()


def find(session: Session, key_id: str, idem: Idempotency, since: datetime) -> Task | None:
    """The task an earlier request with this key made after ``since``, if any.

    Raises ``IdempotencyConflictError`` when that request asked for something else.
    """
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.key_id == key_id,
            IdempotencyRecord.idempotency_key == idem.key,
            IdempotencyRecord.created_at > since,
        )
    )
    if record is None:
        return None
    if record.fingerprint != idem.fingerprint:
        raise IdempotencyConflictError(idem.key)
    return session.scalar(select(Task).where(Task.id == record.task_id))


def remember(
    session: Session, key_id: str, idem: Idempotency, task_id: str, now: datetime, ttl: timedelta
) -> None:
    """Record ``idem`` for ``task_id`` in the caller's transaction.

    An expired record for the same key would block the unique constraint: it no longer
    counts, so it goes first. A live twin makes the flush raise ``IntegrityError``.
    """
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.key_id == key_id,
            IdempotencyRecord.idempotency_key == idem.key,
            IdempotencyRecord.created_at <= now - ttl,
        )
    )
    session.add(
        IdempotencyRecord(
            key_id=key_id,
            idempotency_key=idem.key,
            fingerprint=idem.fingerprint,
            task_id=task_id,
            created_at=now,
        )
    )
    session.flush()


class IdempotencyStore:
    """Reads and expiry of idempotency records outside a task's creation."""

    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._now = clock

    def find(self, key_id: str, idem: Idempotency, ttl: timedelta) -> Task | None:
        """The task an earlier request with this key made within ``ttl``, if any."""
        with self._sessions() as session:
            return find(session, key_id, idem, self._now() - ttl)

    def forget_expired(self, ttl: timedelta) -> int:
        """Delete records older than ``ttl``; returns how many went."""
        with self._sessions.begin() as session:
            result = session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= self._now() - ttl)
            )
            return rowcount(result)
