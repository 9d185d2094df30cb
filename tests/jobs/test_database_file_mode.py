"""Issue 26 item 9: the SQLite file holds the ``whsec_`` webhook secrets: only its owner reads it.

As ``signing.key``: the database file and the ``-wal``/``-shm`` files SQLite makes beside it
(with the database's own mode) are 0600, a fresh one and one an older version left 0644.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from service_testkit import service_settings

from canvasfill.cli.keys import open_key_store
from canvasfill.jobs.runtime import build_runtime


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> object:
    previous = os.umask(0o022)  # a typical umask: files are 0644 unless made private
    yield None
    os.umask(previous)


def test_a_fresh_database_and_its_wal_are_private(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    runtime = build_runtime(settings, apply_migrations=True)
    try:
        runtime.keys.create(name="holds a webhook secret")
        database = tmp_path / "data" / "canvasfill.db"
        files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
        assert all(path.exists() for path in files), list((tmp_path / "data").iterdir())
        assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        runtime.close()


def test_the_key_command_makes_a_private_database_too(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    open_key_store(settings).create(name="first key")
    assert _mode(tmp_path / "data" / "canvasfill.db") == 0o600


def test_an_older_world_readable_database_is_made_private(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    build_runtime(settings, apply_migrations=True).close()
    database = tmp_path / "data" / "canvasfill.db"
    database.chmod(0o644)
    build_runtime(settings).close()
    assert _mode(database) == 0o600
