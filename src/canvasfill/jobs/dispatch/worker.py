"""``canvasfill worker``: a Celery worker that runs tasks published by the API nodes.

It consumes the queues it is given (``cpu``, ``gpu``), with ``concurrency`` worker
processes forked from it; each builds its own runtime and warms its engines up before
it takes a message (see ``celery_queue``), and dies with the worker.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence

from canvasfill.jobs.logs import configure_logging
from canvasfill.jobs.runtime import import_engine_modules
from canvasfill.settings import Settings

DEFAULT_QUEUES = ("cpu",)


def worker_argv(queues: Sequence[str], concurrency: int, log_level: str) -> list[str]:
    """The ``celery worker`` arguments (without gossip, mingle and heartbeats: canvasfill
    needs none of Celery's cluster chatter, and they slow the start)."""
    unknown = sorted(set(queues) - {"cpu", "gpu"})
    if unknown or not queues:
        raise ValueError(f"queues must be cpu and/or gpu (got {', '.join(queues) or 'none'})")
    return [
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "--loglevel",
        log_level,
        "--hostname",
        f"canvasfill-{'-'.join(queues)}@{socket.gethostname()}.{os.getpid()}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def run_worker(
    settings: Settings,
    queues: Sequence[str] = DEFAULT_QUEUES,
    concurrency: int | None = None,
) -> None:
    """Run a Celery worker until it is stopped (SIGTERM: warm shutdown; SIGINT twice: cold).

    ``concurrency`` defaults to ``settings.workers``. Raises ``ValueError`` without a
    ``broker_url`` or with a queue other than ``cpu``/``gpu``.
    """
    if not settings.broker_url:
        raise ValueError("canvasfill worker needs CANVASFILL_BROKER_URL (redis://host:6379/0)")
    argv = worker_argv(queues, concurrency or settings.workers, settings.log_level)
    from canvasfill.jobs.dispatch import celery_queue  # Celery only in distributed mode

    configure_logging(settings.log_level, settings.log_json)
    settings.ensure_data_dir()
    import_engine_modules(settings)
    celery_queue.bind_worker_settings(settings)
    celery_queue.make_celery(settings).worker_main(argv)


def main() -> None:
    """``python -m canvasfill.jobs.dispatch.worker [queues] [concurrency]``: for tests and scripts
    until the CLI carries ``canvasfill worker``; settings come from the environment."""
    import sys

    queues = sys.argv[1].split(",") if len(sys.argv) > 1 else list(DEFAULT_QUEUES)
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else None
    run_worker(Settings(), queues, concurrency)


if __name__ == "__main__":
    main()
