"""The services one process needs, built once from settings: database, stores, blobs.

The API process and every worker process build their own (connections and file
handles do not cross process boundaries); only the settings travel between them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from canvasfill.jobs.database import SessionFactory, make_engine, make_sessions, migrate
from canvasfill.jobs.deliveries import DeliveryStore
from canvasfill.jobs.idempotency import IdempotencyStore
from canvasfill.jobs.keys import KeyStore
from canvasfill.jobs.tasks import TaskStore
from canvasfill.settings import Settings
from canvasfill.storage.base import BlobStore
from canvasfill.storage.local import LocalBlobStore
from canvasfill.storage.signing import UrlSigner


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    """The SQLAlchemy engine (connection pool) of the task database."""
    sessions: SessionFactory
    tasks: TaskStore
    keys: KeyStore
    idempotency: IdempotencyStore
    deliveries: DeliveryStore
    blobs: BlobStore
    """Local folder by default; anything implementing ``storage.base.BlobStore``."""
    signer: UrlSigner

    @property
    def result_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.result_ttl_s)

    def close(self) -> None:
        self.db.dispose()


def import_engine_modules(settings: Settings) -> None:
    """Import the modules named in ``engine_modules`` so their engines register."""
    for name in settings.engine_modules:
        importlib.import_module(name)


def build_runtime(settings: Settings, *, apply_migrations: bool = False) -> Runtime:
    settings.ensure_data_dir()
    import_engine_modules(settings)
    db = make_engine(settings.resolved_database_url)
    if apply_migrations:
        migrate(db)
    sessions = make_sessions(db)
    signer = UrlSigner(settings.secret())
    return Runtime(
        settings=settings,
        db=db,
        sessions=sessions,
        tasks=TaskStore(sessions),
        keys=KeyStore(sessions),
        idempotency=IdempotencyStore(sessions),
        deliveries=DeliveryStore(sessions),
        blobs=LocalBlobStore(settings.resolved_blob_dir, signer),
        signer=signer,
    )
