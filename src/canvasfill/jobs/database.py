"""Connecting to the task database and bringing its schema up to date.

SQLite is the embedded default; the API process and its worker processes all write to
it, so it runs in WAL mode with a busy timeout. PostgreSQL needs nothing special.
Alembic migrations ship inside the package and are applied at start.

Stores open a session for a read (``sessions()``) and a transaction for a change
(``sessions.begin()``). On SQLite that difference is the lock: a writing transaction
begins ``IMMEDIATE`` (it takes the one write lock up front, so a read-then-write waits
its turn instead of failing with ``SQLITE_BUSY``), a read begins deferred and, in WAL
mode, never waits for a writer.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # alembic is loaded only by the processes that migrate or check
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

READS = "canvasfill_reads"
"""Execution option of the connections of read sessions: SQLite begins them deferred."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # the driver's own transaction handling off: we begin ourselves, below
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # a transaction that may write takes the write lock up front (IMMEDIATE), so
            # one that reads and then writes waits for other writers instead of failing
            # with SQLITE_BUSY; a read session's is deferred and waits for nobody
            reads = connection.get_execution_options().get(READS, False)
            connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class SessionFactory:
    """Sessions of one database: ``sessions()`` to read, ``sessions.begin()`` to change.

    A read session must not write: on SQLite its transaction is deferred, and a deferred
    transaction that later writes can fail at once with ``SQLITE_BUSY`` when another
    connection wrote meanwhile. Anything not opened as a read (``engine.begin()``
    included) is treated as a write.
    """

    def __init__(self, engine: Engine) -> None:
        reads = engine.execution_options(**{READS: True})
        self._read_engine = reads
        self._reads = sessionmaker(reads, expire_on_commit=False)
        self._writes = sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> Session:
        """A session for reads (a deferred transaction on SQLite)."""
        return self._reads()

    def connect(self) -> Connection:
        """A bare connection for reads (deferred on SQLite), for the hot path's Core
        reads: a session around one statement cost about as much as the statement."""
        return self._read_engine.connect()

    def begin(self) -> AbstractContextManager[Session]:
        """A session in a writing transaction, committed when the block ends."""
        return self._writes.begin()


def make_sessions(engine: Engine) -> SessionFactory:
    return SessionFactory(engine)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (how conditional updates tell who won)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Apply every migration not yet applied (a no-op on an up-to-date database)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is at the newest migration (for ``/readyz``)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
