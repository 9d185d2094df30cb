"""The distributed dispatcher: Celery over Redis. The message is a task id, nothing more.

Celery's guidance for tasks, applied: the work is idempotent (``execute`` claims the
task; a duplicate finds it finished or held under a live lease and does nothing), acks
are late and a worker lost mid-task rejects its message back to the queue, each worker
process takes one message at a time (prefetch 1: tasks are long), and Redis's
visibility timeout is well above the task timeout, so a slow task is not handed to a
second worker while the first still runs it. The database stays the truth: a message
lost with a broker restart is published again by the sweeper (``republish_after_s``).

Each task goes to the queue of the hardware its engine needs (``cpu`` or ``gpu``), so
GPU nodes (``canvasfill worker --queues gpu``) take only GPU work. Celery and redis are
imported only by this module, which only distributed mode loads.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from canvasfill.engines.base import Hardware
from canvasfill.engines.registry import get_engine, warm_up_all
from canvasfill.errors import CanvasfillError
from canvasfill.jobs.dispatch.lifetime import die_with_parent
from canvasfill.jobs.events import RedisEvents
from canvasfill.jobs.execute import execute
from canvasfill.jobs.logs import configure_logging
from canvasfill.jobs.runtime import Runtime, build_runtime
from canvasfill.jobs.tables import Task
from canvasfill.settings import Settings

log = logging.getLogger(__name__)

TASK_NAME = "canvasfill.execute"
QUEUES = ("cpu", "gpu")
TIME_LIMIT_SLACK_S = 30.0
"""Celery kills a task's process this long after ``task_timeout_s`` (the sweeper has
already failed the task with code ``timeout`` by then)."""


def visibility_timeout(settings: Settings) -> int:
    """Seconds a delivered, unacknowledged message stays invisible: above the longest a
    task may run, so Redis never hands a running task to a second worker."""
    return int(2 * (settings.task_timeout_s + TIME_LIMIT_SLACK_S)) + 60


def make_celery(settings: Settings) -> Celery:
    """The Celery app for ``settings.broker_url``, with canvasfill's one task."""
    if not settings.broker_url:
        raise ValueError("distributed mode needs CANVASFILL_BROKER_URL")
    app = Celery("canvasfill", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": visibility_timeout(settings)},
        task_time_limit=settings.task_timeout_s + TIME_LIMIT_SLACK_S,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUES[0],
        task_create_missing_queues=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # the sweeper publishes again what a failed publish lost: fail fast here
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
    )

    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def run(task_id: str) -> None:
        runtime, events = _process_state()
        try:
            execute(task_id, runtime, events.publish_progress)
        finally:
            events.publish(task_id)  # waiters re-read the record: harmless if unchanged

    return app


def queue_for(task: Task) -> str:
    """The queue of ``task`` (:func:`queue_for_engine` of the engine it stores)."""
    return queue_for_engine(task.engine)


def queue_for_engine(engine_name: str) -> str:
    """``gpu`` when the task's engine needs a GPU, else ``cpu``.

    The engine is the real name acceptance stored: nothing is resolved again here, and
    its hardware is declared by its class, so an engine this node cannot run (no
    weights on an API node) still goes to the right queue. A name unknown here (a
    plugin that only workers install; ``auto`` on a task accepted by an older version)
    goes to ``cpu``, where workers report it properly.
    """
    try:
        engine = get_engine(engine_name)
    except CanvasfillError:
        return "cpu"
    return "gpu" if engine.hardware is Hardware.GPU else "cpu"


class CeleryDispatcher:
    """Publishes task ids to Celery from a thread of its own, so a request never waits
    on the broker (a publish that fails is logged; the sweeper publishes it again)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.celery = make_celery(runtime.settings)
        # a broker that stops answering must fail a publish, not hang this thread (and
        # every publish queued behind it) until it comes back: the sweeper publishes
        # again. Publishers only: a worker's blocking reads wait longer on purpose.
        timeout = runtime.settings.broker_timeout_s
        self.celery.conf.broker_connection_timeout = timeout
        self.celery.conf.broker_transport_options = {
            **self.celery.conf.broker_transport_options,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
        self._outbox: queue.Queue[tuple[str, str | None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._publish_loop, name="publisher", daemon=True)
        self._thread.start()

    def submit(self, task_id: str, engine: str | None = None) -> None:
        self._outbox.put((task_id, engine))

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ready(self) -> bool:
        return self.alive()  # the workers are other processes: their warm-up is theirs

    def stop(self) -> None:
        self._outbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def publish(self, task_id: str, engine: str | None = None) -> None:
        """Send the message now (the publisher thread's step; tests call it directly).
        Without ``engine`` the task is read for it (the sweeper's republish)."""
        if engine is None:
            task = self._runtime.tasks.get(task_id)
            if task is None:
                return
            engine = task.engine
        self.celery.send_task(TASK_NAME, args=[task_id], queue=queue_for_engine(engine))

    def _publish_loop(self) -> None:
        while (item := self._outbox.get()) is not None:
            task_id, engine = item
            try:
                self.publish(task_id, engine)
            except Exception:
                log.warning(
                    "could not publish the task; the sweeper will",
                    exc_info=True,
                    extra={"event": "publish_failed", "task_id": task_id},
                )


# --- inside a worker process -----------------------------------------------------------

_state: dict[str, Any] = {}


def bind_worker_settings(settings: Settings) -> None:
    """Settings for the worker processes this process will fork (``run_worker``)."""
    _state["settings"] = settings


def _init_process(**_kwargs: Any) -> None:
    """Each forked worker process: its own runtime and connections, engines warmed up
    before it takes a message, and it dies with its parent."""
    settings: Settings | None = _state.get("settings")
    if settings is None:
        return
    die_with_parent()
    configure_logging(settings.log_level, settings.log_json)
    _state["runtime"] = build_runtime(settings)
    assert settings.broker_url is not None
    _state["events"] = RedisEvents(settings.broker_url)
    warm_up_all()


def _close_process(**_kwargs: Any) -> None:
    runtime: Runtime | None = _state.pop("runtime", None)
    if runtime is not None:
        runtime.close()


worker_process_init.connect(_init_process, weak=False)
worker_process_shutdown.connect(_close_process, weak=False)


def _process_state() -> tuple[Runtime, RedisEvents]:
    if "runtime" not in _state:  # a solo pool or an eager call: no fork happened
        settings: Settings = _state["settings"]
        _state["runtime"] = build_runtime(settings)
        assert settings.broker_url is not None
        _state["events"] = RedisEvents(settings.broker_url)
    return _state["runtime"], _state["events"]
