"""The task store and friends on SQLite (a temp file) and on the local PostgreSQL server.

PostgreSQL runs on 127.0.0.1:5432 with trust auth (``make services`` starts it); each
test run gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from service_testkit import service_settings

from canvasfill.jobs.runtime import Runtime, build_runtime

POSTGRES_ADMIN = os.environ.get(
    "CANVASFILL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"canvasfill_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
