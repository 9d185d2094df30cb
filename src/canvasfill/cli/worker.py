"""``canvasfill worker``: run the engines for the tasks API nodes accept (distributed mode).

A thin command over :func:`canvasfill.jobs.dispatch.worker.run_worker`: Celery and the database
are imported when it runs. It needs ``CANVASFILL_BROKER_URL``; without it there is
nothing to consume, and it says so.
"""

from __future__ import annotations

import typer

from canvasfill.cli.output import EXIT_BAD_INPUT, fail


def worker(
    queues: str = typer.Option(
        "cpu", help="Queues to take work from: cpu, gpu or cpu,gpu (GPU nodes: gpu)."
    ),
    concurrency: int | None = typer.Option(
        None, min=1, help="Worker processes (default: the workers setting, half the CPUs)."
    ),
) -> None:
    """Run a Celery worker: takes task ids from the queues and runs them to an outcome."""
    from canvasfill.jobs.dispatch.worker import run_worker
    from canvasfill.settings import Settings

    names = [name.strip() for name in queues.split(",") if name.strip()]
    try:
        run_worker(Settings(), names, concurrency)
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
