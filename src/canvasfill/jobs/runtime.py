"""The services one process needs, built once from settings: database, stores, blobs.

The API process and every worker process build their own (connections and file
handles do not cross process boundaries); only the settings travel between them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from canvasfill.imaging.budget import MemoryBudget
from canvasfill.jobs.database import SessionFactory, make_engine, make_sessions, migrate
from canvasfill.jobs.deliveries import DeliveryStore
from canvasfill.jobs.idempotency import IdempotencyStore
from canvasfill.jobs.keys import KeyStore
from canvasfill.jobs.tasks import TaskStore
from canvasfill.settings import Settings
from canvasfill.storage.base import BlobStore
from canvasfill.storage.blob_url import S3Timeouts, open_blob_store
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
    """Local folder by default, an S3 bucket when ``blob_url`` names one."""
    signer: UrlSigner
    decode_budget: MemoryBudget
    """Bounds the pixels acceptance decodes at once in this process (``decode_memory_mb``)."""

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
    """``apply_migrations`` (the API process, at start) also prepares the shared state
    beside the schema: a missing bucket is created and given its lifecycle rule."""
    settings.ensure_data_dir()
    import_engine_modules(settings)
    signer = UrlSigner(settings.secret())
    blobs = open_blob_store(
        settings.blob_url,
        local_root=settings.resolved_blob_dir,
        signer=signer,
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_public_url=settings.s3_public_url,
        result_ttl_s=settings.result_ttl_s,
        prepare=apply_migrations,
        s3_timeouts=S3Timeouts(
            connect_s=settings.s3_connect_timeout_s,
            read_s=settings.s3_read_timeout_s,
            max_attempts=settings.s3_max_attempts,
        ),
    )
    db = make_engine(settings.resolved_database_url)
    if apply_migrations:
        migrate(db)
    sessions = make_sessions(db)
    return Runtime(
        settings=settings,
        db=db,
        sessions=sessions,
        tasks=TaskStore(sessions),
        keys=KeyStore(sessions),
        idempotency=IdempotencyStore(sessions),
        deliveries=DeliveryStore(sessions),
        blobs=blobs,
        signer=signer,
        decode_budget=MemoryBudget(settings.decode_memory_mb * 2**20),
    )
