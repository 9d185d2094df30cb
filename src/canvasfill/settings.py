"""Service settings: environment variables (``CANVASFILL_*``) over an optional TOML file.

Every default is safe for one machine: the data folder holds the SQLite database, the
blobs and the generated signing secret, so ``canvasfill serve`` runs from a clean clone
with nothing configured. Distributed mode is the same code with other URLs here.

:class:`Settings` extends the engines' :class:`~canvasfill.engines.settings.EngineSettings`
rather than repeating their fields, and both read the same sources
(:mod:`canvasfill.config`): the config file is ``$CANVASFILL_CONFIG`` when set, else
``./canvasfill.toml`` when it exists; environment variables win over it. The engines
keep reading theirs through ``engine_settings()``, since they may not import this
module (it sits above them).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from canvasfill.engines.settings import EngineSettings

_SECRET_FILE = "signing.key"

DEFAULT_PRICES = {"expand": 1, "remove": 1, "mask": 0}
"""Credits per result image by default. A mask (``POST /v1/masks``) is free: detection
costs a fraction of a fill (tenths of a second beside seconds), and the playground's
find, edit, then remove would otherwise cost twice what one ``detect=`` removal costs,
which would punish checking the mask first. An operator who wants masks paid sets
``mask`` in ``price_per_image``."""


def _default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class Settings(EngineSettings):
    """What an operator can set; read once at start and passed to every part."""

    data_dir: Path = Path("./canvasfill-data")
    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/canvasfill.db``. PostgreSQL:
    ``postgresql+psycopg://user@host/db``."""
    blob_dir: Path | None = None
    """Where inputs and results are kept; default ``<data_dir>/blobs``."""

    # --- blob storage: an S3-compatible bucket in distributed mode (storage/blob_url.py) ---
    # Credentials and region come the standard way: AWS_ACCESS_KEY_ID,
    # AWS_SECRET_ACCESS_KEY, AWS_REGION (or a profile or role boto3 finds).
    blob_url: str | None = None
    """``s3://bucket/prefix``: inputs and results in that bucket, fetched by presigned URLs
    straight from it; unset: the local folder ``blob_dir``, served by the API."""
    s3_endpoint_url: str | None = None
    """The S3 API of a non-AWS store (``http://127.0.0.1:8333``); unset: AWS."""
    s3_public_url: str | None = None
    """The store's address as users reach it, when not ``s3_endpoint_url`` (a compose
    network): presigned URLs name it. Unset: ``s3_endpoint_url``."""
    s3_connect_timeout_s: float = Field(3.0, gt=0)
    s3_read_timeout_s: float = Field(15.0, gt=0)
    """How long the service waits for each answer of the store (an upload of a large
    input included) before it tries again; a frozen store fails a call after about
    ``s3_max_attempts`` times this, not never."""
    s3_max_attempts: int = Field(3, ge=1, le=10)
    host: str = "127.0.0.1"
    """Where ``canvasfill serve`` listens (``0.0.0.0``: every address); ``--host`` wins."""
    port: int = Field(8000, ge=1, le=65535)
    """The port ``canvasfill serve`` listens on; ``--port`` wins."""
    public_url: str | None = None
    """Base of the result URLs handed out (``https://fill.example.com``); default: the
    address a request came in on."""
    signing_secret: str | None = None
    """Signs result URLs; generated once and kept in ``<data_dir>/signing.key`` if unset."""
    result_ttl_s: int = Field(3600, ge=1)
    """Results (and their signed URLs) expire this long after the task finishes."""
    workers: int = Field(default_factory=_default_workers, ge=1, le=64)
    """Worker processes of the embedded dispatcher."""
    task_timeout_s: float = Field(600.0, gt=0)
    """A task running longer than this fails with code ``timeout``."""
    max_attempts: int = Field(3, ge=1)
    """How often a task is started before a crashing worker makes it fail."""
    rate_limit: float = Field(10.0, ge=0)
    """Requests per second per key (bursts of the same size); 0 turns it off."""
    price_per_image: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    """Credits charged per successful result image, by operation (``mask``: a mask from
    ``POST /v1/masks``); an operation not named costs what ``DEFAULT_PRICES`` says."""
    url_allow: list[str] = Field(default_factory=list)
    """Private networks or host names URL inputs may reach (``["127.0.0.1/32"]``)."""
    url_timeout_s: float = Field(10.0, gt=0)
    url_max_redirects: int = Field(3, ge=0)
    url_max_length: int = Field(512, ge=16)
    engine_modules: list[str] = Field(default_factory=list)
    """Extra modules to import in every process so the engines they define register."""
    idempotency_ttl_s: int = Field(24 * 3600, ge=1)
    callback_max_attempts: int = Field(8, ge=1)
    callback_backoff_s: float = Field(2.0, gt=0)
    """First retry delay of a callback; each further retry waits twice as long."""
    callback_timeout_s: float = Field(10.0, gt=0)
    callback_poll_s: float = Field(1.0, gt=0)
    """How often the sender looks for due retries (it is woken at once for new ones)."""
    callback_concurrency: int = Field(16, ge=1, le=256)
    """Callbacks one API node sends at once, all destinations together."""
    callback_per_destination: int = Field(2, ge=1, le=64)
    """Callbacks sent at once to one destination (scheme, host and port): an endpoint
    that never answers holds this many senders for ``callback_timeout_s``, and the
    others keep delivering to everyone else."""
    ready_timeout_s: float = Field(2.0, gt=0, le=30)
    """``/readyz`` counts a dependency (database, blobs, broker) that has not answered
    within this long as down, and says so, rather than hang."""
    sweep_interval_s: float = Field(60.0, gt=0)
    watchdog_interval_s: float = Field(5.0, gt=0)
    log_level: str = "INFO"
    log_json: bool | Literal["auto"] = "auto"
    """``auto``: readable lines when stderr is a terminal, JSON lines otherwise (for a log
    collector); ``true``/``false`` force one or the other."""

    # --- hardening (issue 14): request bodies, proxies, repeated synchronous calls ---
    body_timeout_s: float = Field(30.0, gt=0)
    """A request body that sends nothing for this long is refused with 408."""
    forwarded_allow_ips: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Proxies whose ``X-Forwarded-Host``/``-Proto`` and ``Forwarded`` headers are believed
    when result URLs are built (addresses or networks; ``"*"`` trusts every peer), as
    uvicorn's ``--forwarded-allow-ips``. Others' forwarded headers are ignored."""
    decode_memory_mb: int = Field(256, ge=16)
    """Memory the API process may spend on decoding inputs at once (masks, and images
    whose integrity needs a decode): concurrent decodes wait for their share, so twenty
    large uploads cannot take gigabytes. One decode larger than this runs alone."""
    header_timeout_s: float = Field(10.0, gt=0)
    """``canvasfill serve`` closes a connection (408) whose request line and headers are
    not all in this long after it opened, or after the previous answer on it."""
    connections_per_peer: int = Field(64, ge=0)
    """Connections one client address may hold open at once under ``canvasfill serve``;
    more are closed as they open. 0: no bound (behind a proxy, which every connection
    comes from, raise it or bound clients at the proxy)."""
    sync_join_s: float = Field(600.0, ge=0)
    """A synchronous request repeated (same key, same body) within this many seconds of
    the first, while its task is queued or running, waits on that task; 0 turns it off."""

    # --- dispatch, leases, waits and rate limits (issue 12: distributed mode) -----------
    broker_url: str | None = None
    """Redis URL of the Celery broker (``redis://127.0.0.1:6379/0``); unset runs the
    embedded worker pool. With it set, result waits and rate limits go through Redis."""
    broker_timeout_s: float = Field(5.0, gt=0)
    """A publish to the broker that gets no answer within this long (connecting, or each
    reply) fails and is retried by the sweeper, rather than hang the publisher."""
    lease_s: float = Field(30.0, gt=0)
    """A running task's lease: its worker renews it every third of this; a task whose
    lease lapsed (its process died) is queued again by any node's sweeper."""
    republish_after_s: float = Field(120.0, gt=0)
    """A task queued this long with nobody running it is published to the broker again
    (a message lost with a broker restart); duplicates are harmless."""
    png_compress_level: int = Field(1, ge=0, le=9)
    """zlib level of PNG results: 1 is fast (default), 9 smallest; pixels are the same."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'canvasfill.db').resolve()}"

    @property
    def resolved_blob_dir(self) -> Path:
        return (self.blob_dir or self.data_dir / "blobs").resolve()

    def price_for(self, operation: str) -> int:
        return self.price_per_image.get(operation, DEFAULT_PRICES.get(operation, 1))

    def ensure_data_dir(self) -> None:
        """Make the data and blob folders, and the SQLite file private (see below)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.resolved_blob_dir.mkdir(parents=True, exist_ok=True)
        database = self.sqlite_path
        if database is not None:
            _make_private(database)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None (PostgreSQL, or SQLite in memory)."""
        url = self.resolved_database_url
        if not url.startswith("sqlite") or "///" not in url:
            return None
        path = url.split("///", 1)[1].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    def secret(self) -> bytes:
        """The URL-signing secret: the setting, or one generated once and kept on disk."""
        if self.signing_secret:
            return self.signing_secret.encode()
        path = self.data_dir / _SECRET_FILE
        if not path.exists():
            self.ensure_data_dir()
            # written aside, then linked into place: concurrent first starts agree on one
            spare = path.with_name(f"{_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            spare.write_text(secrets.token_hex(32))
            spare.chmod(0o600)
            try:
                os.link(spare, path)
            except FileExistsError:
                pass
            finally:
                spare.unlink()
        return path.read_bytes().strip()

    def for_worker(self) -> dict[str, Any]:
        """A plain dict that rebuilds these settings in a spawned worker process."""
        return self.model_dump(mode="json")


def _make_private(database: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use the umask: 0644),
    and take an older file's group and world bits away.

    It holds every key's ``whsec_`` webhook secret, so it is as private as
    ``signing.key``; SQLite gives the ``-wal`` and ``-shm`` files it makes beside it the
    database's own mode, and those left by an older version are fixed here too.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except FileNotFoundError:
            pass
