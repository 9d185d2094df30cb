"""The task store and friends on SQLite (a temp file) and on the local PostgreSQL server.

PostgreSQL runs on 127.0.0.1:5432 with trust auth (``make services`` starts it); each
test run gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_testkit import fresh_postgres_database, service_settings

from canvasfill.jobs.runtime import Runtime, build_runtime
from canvasfill.jobs.submission import Submission
from canvasfill.jobs.tables import Task
from canvasfill.jobs.tasks import new_task_id
from canvasfill.pipeline.spec import JobSpec


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    overrides: dict[str, object] = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    settings = service_settings(tmp_path / "data", **overrides)
    runtime = build_runtime(settings, apply_migrations=True)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(service_settings(tmp_path / "data"), apply_migrations=True)
    try:
        yield runtime
    finally:
        runtime.close()


def create(runtime: Runtime, key_id: str, spec: JobSpec, cost: int = 0) -> tuple[Task, bool]:
    """Store a task straight in the task store (no acceptance checks), its input a URL."""
    submission = Submission(spec=spec, image_url="https://example.com/photo.png")
    return runtime.tasks.create(new_task_id(), key_id, submission, cost)
