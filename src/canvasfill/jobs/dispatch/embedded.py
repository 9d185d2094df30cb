"""The embedded dispatcher: a pool of worker processes inside ``canvasfill serve``.

Processes, not threads: an engine that crashes in native code takes one worker down,
not the server. When that happens the pool is rebuilt and the tasks it was running are
submitted again (``execute`` takes them over; a task that keeps killing workers fails
after ``max_attempts``). A control thread does everything that touches the pool, so
callbacks from the pool's own threads only post messages. The same thread is the
watchdog: it fails tasks that run past their timeout (stopping their worker) and
picks up queued tasks that nobody submitted, such as ones the sweeper queued again.
Workers die with the server (``die_with_parent``), even when it is killed.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import queue
import signal
import socket
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from typing import Any

from canvasfill.engines.registry import warm_up_all
from canvasfill.jobs.dispatch.base import FinishedHook
from canvasfill.jobs.dispatch.lifetime import die_with_parent
from canvasfill.jobs.dispatch.notices import Address, NoticeInbox, NoticeSender
from canvasfill.jobs.events import ProgressHook
from canvasfill.jobs.execute import execute
from canvasfill.jobs.logs import configure_logging
from canvasfill.jobs.runtime import Runtime, build_runtime
from canvasfill.jobs.tables import TaskStatus
from canvasfill.settings import Settings

log = logging.getLogger(__name__)

TOLD_KEPT = 4096
"""Ends told once and awaiting their second report, remembered at most (a few hundred KB)."""
_MANAGER_JOIN_S = 10.0
"""How long a stop waits for a killed pool's manager thread to close the pool's queues."""

# --- inside a worker process ------------------------------------------------------------

_worker_runtime: Runtime | None = None
_worker_notices: NoticeSender | None = None


def _init_worker(settings: dict[str, Any], notices: Address | None = None) -> None:
    global _worker_runtime, _worker_notices
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    parsed = Settings(**settings)
    configure_logging(parsed.log_level, parsed.log_json)
    _worker_runtime = build_runtime(parsed)
    _worker_notices = NoticeSender(notices) if notices is not None else None
    warm_up_all()


def _ready() -> None:
    """A no-op: submitted once per worker so that all of them start with the pool; the
    first to return tells the server a worker has warmed up (the initializer ran)."""


def _work(task_id: str) -> None:
    assert _worker_runtime is not None, "worker process was not initialised"
    notices = _worker_notices
    execute(task_id, _worker_runtime, notices, notices.outcome if notices is not None else None)


# --- in the server -----------------------------------------------------------------------


class EmbeddedDispatcher:
    """``on_finished`` is told of each task a worker call (or the watchdog) ended;
    ``on_progress``, in this process, of each progress write of the workers.

    A worker's outcome notice (``notices.py``) tells ``on_finished`` as soon as the
    outcome is in the store; the pool's own report, which comes later, then tells it
    nothing more (and tells it alone when a notice was lost, or the call recorded no
    outcome)."""

    def __init__(
        self,
        runtime: Runtime,
        workers: int,
        on_finished: FinishedHook | None = None,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self._runtime = runtime
        self._workers = workers
        self._on_finished = on_finished
        self._notices = NoticeInbox(on_progress or _ignore, self._outcome_notice)
        self._told: OrderedDict[str, None] = OrderedDict()
        """Tasks whose end one of the two reports (notice, pool) has told already."""
        self._told_lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._inflight: set[str] = set()
        self._messages: queue.Queue[tuple[str, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.rebuilds = 0
        self._last_rebuild = 0.0
        self._warm = threading.Event()
        self._warm_lock = threading.Lock()
        self._started_at = time.monotonic()

    def start(self) -> None:
        """Build the pool and start watching (the first scan finds what is queued).

        Tasks a dead process left running are not touched here: their leases lapse and
        the sweeper queues them again, which is right with any number of nodes.
        """
        self._notices.start()
        self._started_at = time.monotonic()
        self._pool = self._new_pool()
        self._thread = threading.Thread(target=self._control, name="dispatcher", daemon=True)
        self._thread.start()
        self._messages.put(("scan", ""))

    def submit(self, task_id: str, engine: str | None = None) -> None:
        self._messages.put(("submit", task_id))

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pool is not None

    def ready(self) -> bool:
        """Alive, and at least one worker has warmed its engines since the start: until
        then a task would wait for the warm-up (the JIT compiles of a fresh install)."""
        return self._warm.is_set() and self.alive()

    def stop(self) -> None:
        """Stop at once; tasks still running go back to the queue for the next start."""
        self._stopping.set()
        self._messages.put(("stop", ""))
        if self._thread is not None:
            self._thread.join(timeout=10)
        pool, self._pool = self._pool, None
        if pool is not None:
            self._terminate(pool)
            self._release(self._inflight)
        self._notices.stop()

    def worker_pids(self) -> list[int]:
        pool = self._pool
        processes = pool._processes if pool is not None else None
        return list(processes or {})

    # --- the control thread --------------------------------------------------------

    def _control(self) -> None:
        interval = self._runtime.settings.watchdog_interval_s
        while not self._stopping.is_set():
            try:
                kind, task_id = self._messages.get(timeout=interval)
            except queue.Empty:
                kind, task_id = "scan", ""
            try:
                if kind == "stop":
                    return
                if kind == "submit":
                    self._submit(task_id)
                elif kind == "broken":
                    self._rebuild()
                    self._submit(task_id)
                elif kind == "done":
                    self._finished(task_id)
                elif kind == "scan":
                    self._watch()
            except Exception:  # the control thread must outlive any one bad message
                log.exception("dispatcher step failed", extra={"event": "dispatcher_error"})

    def _submit(self, task_id: str) -> None:
        if task_id in self._inflight or self._pool is None:
            return
        try:
            future = self._pool.submit(_work, task_id)
        except (BrokenProcessPool, RuntimeError):
            self._rebuild()
            future = self._pool.submit(_work, task_id)
        self._inflight.add(task_id)
        future.add_done_callback(lambda done: self._done(task_id, done))

    def _done(self, task_id: str, future: Future[None]) -> None:
        # runs on a pool thread: only post a message
        if future.cancelled() or self._stopping.is_set():
            return
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            log.error("a worker process died", extra={"event": "worker_died", "task_id": task_id})
            self._messages.put(("broken", task_id))
        else:
            if error is not None:
                log.error("worker call failed: %r", error, extra={"task_id": task_id})
            self._messages.put(("done", task_id))

    def _finished(self, task_id: str) -> None:
        self._inflight.discard(task_id)
        self._tell(task_id)

    def _outcome_notice(self, task_id: str) -> None:
        """A worker recorded ``task_id``'s outcome (the notices thread)."""
        self._tell(task_id)

    def _tell(self, task_id: str) -> None:
        """``on_finished(task_id)`` for the first of the two reports of one end, not the
        second. A report whose twin never comes (a lost notice, a call that recorded
        nothing) stays remembered until ``TOLD_KEPT`` later ones push it out; should
        that task run again, its next end is told by the later of its reports."""
        with self._told_lock:
            if task_id in self._told:
                del self._told[task_id]
                return
            self._told[task_id] = None
            while len(self._told) > TOLD_KEPT:
                self._told.popitem(last=False)
        if self._on_finished is not None:
            self._on_finished(task_id)

    def _rebuild(self) -> None:
        """Replace a broken pool; everything it was running is submitted again."""
        pool = self._pool
        if pool is not None and not _is_broken(pool):
            return
        if pool is not None:
            self._terminate(pool)
            self._release(self._inflight)
        if self._stopping.is_set():  # stop() has taken the pool: none may follow it
            self._pool = None
            return
        # a pool that cannot even start its workers must not spin the CPU
        pause = self._last_rebuild + 1.0 - time.monotonic()
        if pause > 0:
            self._stopping.wait(pause)
        self._last_rebuild = time.monotonic()
        self.rebuilds += 1
        lost, self._inflight = self._inflight, set()
        self._pool = self._new_pool()
        log.warning("worker pool rebuilt", extra={"event": "pool_rebuilt", "lost": len(lost)})
        for task_id in sorted(lost):
            self._submit(task_id)

    def _watch(self) -> None:
        settings = self._runtime.settings
        overdue = self._runtime.tasks.fail_overdue(
            timedelta(seconds=settings.task_timeout_s),
            timedelta(seconds=settings.lease_s),
            self._runtime.result_ttl,
        )
        for task in overdue:
            log.warning("task timed out", extra={"event": "task_timeout", "task_id": task.id})
            self._stop_worker(task.worker)
            self._finished(task.id)
        for task_id in self._runtime.tasks.ids_with_status(TaskStatus.QUEUED.value):
            self._submit(task_id)

    def _stop_worker(self, worker: str | None) -> None:
        """Kill the worker process running a timed-out task (if it is one of ours)."""
        if not worker or ":" not in worker:
            return
        host, _, pid_text = worker.rpartition(":")
        if host != socket.gethostname() or not pid_text.isdigit():
            return
        pid = int(pid_text)
        if pid in self.worker_pids():
            os.kill(pid, signal.SIGKILL)  # the pool notices, breaks and is rebuilt

    def _release(self, task_ids: set[str]) -> None:
        """Queue again what our (now dead) workers were running: they hold live leases
        that nobody would renew."""
        released = self._runtime.tasks.release(sorted(task_ids), socket.gethostname())
        if released:
            log.warning(
                "requeued %d tasks of stopped workers",
                len(released),
                extra={"event": "released"},
            )

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(
                self._runtime.settings.for_worker(),
                self._notices.address,
            ),
        )
        # the pool starts a process per submission while none is idle: one no-op each
        # starts them all now, warmed up, instead of under the first burst of tasks
        for _ in range(self._workers):
            pool.submit(_ready).add_done_callback(self._warmed)
        return pool

    def _warmed(self, future: Future[None]) -> None:
        """A worker ran ``_ready``, so its initializer warmed its engines: the first one
        makes the server ready (a pool rebuilt later does not make it unready)."""
        if future.cancelled() or future.exception() is not None:
            return
        with self._warm_lock:
            if self._warm.is_set():
                return
            self._warm.set()
        log.info(
            "ready to take work at full speed: a worker has warmed its engines (%.1f s)",
            time.monotonic() - self._started_at,
            extra={"event": "workers_ready", "workers": self._workers},
        )

    @staticmethod
    def _terminate(pool: ProcessPoolExecutor) -> None:
        """Kill the pool's workers, then wait for the pool's manager thread to close its
        queues, so that collecting them unlinks their semaphores now.

        ``shutdown(wait=False)`` forgets the manager thread without joining it (a later
        ``shutdown(wait=True)`` then joins nothing), so the thread is taken first and
        joined here. Until it has ended it holds the queues, and so their semaphores:
        when uvicorn then ends the process with the signal it caught (no exit handlers
        run), the resource tracker finds them and warns of "leaked" semaphores. A
        quiet machine ends the thread within microseconds; a loaded one did not, which
        made the graceful-stop test fail now and then.
        """
        manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
        processes = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(timeout=5)
        if manager is not None:
            manager.join(timeout=_MANAGER_JOIN_S)
            if manager.is_alive():
                log.warning(
                    "the worker pool's manager thread did not end within %.0f s",
                    _MANAGER_JOIN_S,
                    extra={"event": "pool_manager_stuck"},
                )
        del pool, processes, manager
        gc.collect()


def _ignore(_task_id: str) -> None:
    """No hook for this kind of notice."""


def _is_broken(pool: ProcessPoolExecutor) -> bool:
    return bool(getattr(pool, "_broken", False))
