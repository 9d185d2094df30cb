"""SQLite locking on a real database file: reads never wait for a writer; writers queue."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update

from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.tables import ApiKey

HOLD_S = 3.0
"""How long the first writer keeps its transaction open at most."""


def hold_write(
    runtime: Runtime, key_id: str, holding: threading.Event, release: threading.Event
) -> None:
    """A writing transaction that reads the key's credits, changes them, and waits."""
    with runtime.sessions.begin() as session:
        credits = session.scalar(select(ApiKey.credits).where(ApiKey.id == key_id))
        assert credits is not None
        session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(credits=credits + 1, name="writing")
        )
        holding.set()
        release.wait(HOLD_S)


def test_a_read_does_not_wait_for_a_writing_transaction(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    key = runtime.keys.create(name="before", credits=10).record
    holding, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=hold_write, args=(runtime, key.id, holding, release))
    writer.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        seen = runtime.keys.get(key.id)
        waited = time.monotonic() - started
    finally:
        release.set()
        writer.join(10)
    assert waited < 1.0, f"the read waited {waited:.2f} s for the writer"
    assert seen is not None
    assert (seen.name, seen.credits) == ("before", 10)  # the uncommitted change is not seen
    after = runtime.keys.get(key.id)
    assert after is not None
    assert (after.name, after.credits) == ("writing", 11)


def test_writing_transactions_wait_for_each_other(sqlite_runtime: Runtime) -> None:
    """The second writer (a read-then-write of its own) waits for the first, then runs:
    neither fails with ``SQLITE_BUSY`` and neither change is lost."""
    runtime = sqlite_runtime
    key = runtime.keys.create(credits=10).record
    holding, release = threading.Event(), threading.Event()
    first = threading.Thread(target=hold_write, args=(runtime, key.id, holding, release))
    first.start()
    assert holding.wait(5)
    outcome: list[object] = []

    def second() -> None:
        try:
            outcome.append(runtime.keys.add_credits(key.id, 5))
        except Exception as exc:  # reported below
            outcome.append(exc)

    follower = threading.Thread(target=second)
    follower.start()
    follower.join(0.5)
    try:
        assert follower.is_alive(), f"the second writer did not wait: {outcome}"
    finally:
        release.set()
        first.join(10)
        follower.join(10)
    [record] = outcome
    assert isinstance(record, ApiKey), record
    assert record.credits == 16
