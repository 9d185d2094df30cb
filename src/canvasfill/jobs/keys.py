"""API keys and their credits.

A key is shown once, when it is made; only its SHA-256 is stored. Keys are 256 random
bits, so a plain hash is as strong as a slow password hash here and costs nothing per
request. Credits move only through single conditional SQL updates, so concurrent
requests can never take a balance below zero.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from canvasfill.jobs.database import SessionFactory, rowcount
from canvasfill.jobs.tables import ApiKey, utcnow

KEY_PREFIX = "cf_"


_KEYS = cast(Table, ApiKey.__table__)
_BY_HASH = select(*_KEYS.c).where(_KEYS.c.key_hash == bindparam("key_hash"))
"""Every request's key lookup, built once (building it cost a quarter of the lookup), on
the table (Core) and run on a bare connection: the ORM session around it cost as much."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class CreatedKey:
    record: ApiKey
    key: str
    """The secret itself: print it once; it cannot be recovered later."""


class InsufficientCreditsError(Exception):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"this request costs {needed} credits; the key has {available} left")
        self.needed = needed
        self.available = available


class KeyStore:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def create(self, name: str = "", credits: int | None = None) -> CreatedKey:
        if credits is not None and credits < 0:
            raise ValueError("credits cannot be negative")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(
            id=uuid.uuid4().hex[:12],
            name=name,
            prefix=key[:10],
            key_hash=hash_key(key),
            credits=credits,
            webhook_secret=new_webhook_secret(),
            created_at=utcnow(),
        )
        with self._sessions.begin() as session:
            session.add(record)
        return CreatedKey(record=record, key=key)

    def authenticate(self, key: str) -> ApiKey | None:
        """The live key record for ``key``, or None (unknown or revoked)."""
        with self._sessions.connect() as connection:
            row = connection.execute(_BY_HASH, {"key_hash": hash_key(key)}).first()
        if row is None or row.revoked_at is not None:
            return None
        return ApiKey(**row._mapping)

    def get(self, key_id: str) -> ApiKey | None:
        with self._sessions() as session:
            return session.get(ApiKey, key_id)

    def list(self) -> list[ApiKey]:
        with self._sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))

    def count(self) -> int:
        return len(self.list())

    def revoke(self, id_or_prefix: str) -> ApiKey | None:
        """Revoke the key with this id (or key prefix); None when there is no such key."""
        with self._sessions.begin() as session:
            record = session.get(ApiKey, id_or_prefix) or session.scalar(
                select(ApiKey).where(ApiKey.prefix == id_or_prefix)
            )
            if record is None:
                return None
            if record.revoked_at is None:
                record.revoked_at = utcnow()
            return record

    def add_credits(self, id_or_prefix: str, amount: int) -> ApiKey | None:
        """Add ``amount`` to a limited key's credits; the key afterwards (None: no such key).

        An unlimited key is returned unchanged. One conditional UPDATE, so a top-up and
        concurrent requests spending credits never lose each other's change.
        """
        if amount < 0:
            raise ValueError("credits are added, never taken away here")
        with self._sessions.begin() as session:
            record = session.get(ApiKey, id_or_prefix) or session.scalar(
                select(ApiKey).where(ApiKey.prefix == id_or_prefix)
            )
            if record is None:
                return None
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == record.id, ApiKey.credits.is_not(None))
                .values(credits=ApiKey.credits + amount)
                .execution_options(synchronize_session=False)
            )
            session.refresh(record)
            return record


def reserve(session: Session, key_id: str, cost: int, *, limited: bool = True) -> None:
    """Take ``cost`` credits from a limited key, or raise ``InsufficientCreditsError``.

    One conditional UPDATE: the balance check and the subtraction are a single step
    for the database, so no interleaving of requests can overdraw a key. ``limited`` is
    what the key was when the request was authorized: for a key that was unlimited
    then, the balance is read first, so the usual case is one statement either way
    (a key that changed since is still charged right, with one statement more).
    """
    if not limited and _balance(session, key_id) is None:
        return
    result = session.execute(_TAKE, {"key_id": key_id, "cost": cost})
    if rowcount(result) == 1:
        return
    balance = _balance(session, key_id)
    if balance is None:
        return  # an unlimited key
    raise InsufficientCreditsError(cost, balance)


def _balance(session: Session, key_id: str) -> int | None:
    """The key's credits (None: unlimited)."""
    return session.scalar(_BALANCE, {"key_id": key_id})


# every accepted task's credit hold, built once (see _BY_HASH)
_BALANCE = select(ApiKey.credits).where(ApiKey.id == bindparam("key_id"))
_TAKE = (
    update(ApiKey)
    .where(
        ApiKey.id == bindparam("key_id"),
        ApiKey.credits.is_not(None),
        ApiKey.credits >= bindparam("cost"),
    )
    .values(credits=ApiKey.credits - bindparam("cost"))
    .execution_options(synchronize_session=False)
)


def refund(session: Session, key_id: str, cost: int) -> None:
    """Give back credits held for a task that did not succeed."""
    if cost:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.credits.is_not(None))
            .values(credits=ApiKey.credits + cost)
            .execution_options(synchronize_session=False)
        )
