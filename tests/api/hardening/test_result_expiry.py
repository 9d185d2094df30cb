"""Issue 26 item 10: results past their TTL read as expired at once, not after a sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from canvasfill.jobs.tables import Task
from tests.api.dialects.live import Live
from tests.api.hardening.test_result_files import finished


def test_results_past_their_ttl_read_as_expired_before_any_sweep(live: Live) -> None:
    task_id = finished(live)["id"]
    with live.server.runtime.sessions.begin() as session:
        session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(results_expire_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    # no sweep has run: the record still says results_expired=False
    response = live.client.get(
        f"/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {live.key}"}
    )
    task = response.json()
    assert task["results"] == []
    assert task["results_expired"] is True
