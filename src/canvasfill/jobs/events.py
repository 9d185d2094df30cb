"""Task events: how a waiting request or event stream learns, at once, that its task
changed: its outcome (finished, or any change of state) or its progress.

An event says only "task X may have changed"; the waiter re-reads the record, which
stays the truth, so a duplicate or spurious event costs one read and a lost one costs
at most ``RECHECK_S`` of latency (waiters also re-read on that period).

Two kinds, because most waiters want only one: ``publish`` (the outcome, or another
change of state) wakes every waiter of the task; ``publish_progress`` (a progress write,
several a second while a task runs) wakes only the waiters that asked for progress
(``watch(task_id, progress=True)``: the SSE stream), so a synchronous request waiting for
the outcome does not re-read its task on every step.

- ``LocalEvents`` (embedded): the dispatcher's hooks publish in the same process that
  waits (worker processes hand progress to it: ``dispatch/notices.py``).
- ``RedisEvents`` (distributed): whoever records an outcome or progress (a Celery worker,
  a sweeper) publishes the task id on a Redis pub/sub channel of its kind; every API
  node listens with one thread and wakes its own waiters. ``redis`` is imported only
  here, and only when a broker is configured.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHANNEL = "canvasfill:task-finished"
"""Outcomes and other changes of state (the name predates progress events)."""
PROGRESS_CHANNEL = "canvasfill:task-progress"
RECHECK_S = 2.0
"""A waiter re-reads its task at least this often, whatever the events say."""

ProgressHook = Callable[[str], None]
"""Told a task id each time that task's progress (or running state) was written."""


class TaskEvents(Protocol):
    def publish(self, task_id: str) -> None:
        """Tell every waiter, on every node, that ``task_id`` may have finished."""

    def publish_progress(self, task_id: str) -> None:
        """Tell the waiters that asked for progress that ``task_id``'s progress moved."""

    def watch(
        self,
        task_id: str,
        *,
        progress: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Watch:
        """Start listening for ``task_id`` (before re-reading it, so nothing is missed);
        with ``progress``, progress events wake it too. ``loop``: the event loop that
        will wait on it, when the watch is opened from another thread (the running
        loop otherwise)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Watch:
    """One waiter's interest in one task; ``wait`` returns True once woken."""

    def __init__(
        self,
        board: Waiters,
        task_id: str,
        progress: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._board = board
        self.task_id = task_id
        self.progress = progress
        self._loop = loop or asyncio.get_running_loop()
        # an Event binds to a loop only when first awaited: one made in another thread
        # (a watch opened before its task is dispatched) still waits on ``loop``
        self._event = asyncio.Event()

    def wake(self) -> None:
        # called from any thread: hand the wake-up to the waiter's own event loop
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._board.forget(self)


class Waiters:
    """The waiters of this process, by task id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_task: dict[str, set[Watch]] = {}

    def add(
        self, task_id: str, progress: bool = False, loop: asyncio.AbstractEventLoop | None = None
    ) -> Watch:
        watch = Watch(self, task_id, progress, loop)
        with self._lock:
            self._by_task.setdefault(task_id, set()).add(watch)
        return watch

    def forget(self, watch: Watch) -> None:
        with self._lock:
            watches = self._by_task.get(watch.task_id)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._by_task[watch.task_id]

    def notify(self, task_id: str, progress: bool = False) -> None:
        """Wake the task's waiters (for a progress event, those that asked for it)."""
        with self._lock:
            watches = list(self._by_task.get(task_id, ()))
        for watch in watches:
            if watch.progress or not progress:
                watch.wake()


class _Watched:
    """What both kinds of events share: this process's waiters, and a watch on them."""

    waiters: Waiters

    def watch(
        self,
        task_id: str,
        *,
        progress: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Watch:
        return self.waiters.add(task_id, progress, loop)


class LocalEvents(_Watched):
    """Events within one process: the embedded mode."""

    def __init__(self) -> None:
        self.waiters = Waiters()

    def publish(self, task_id: str) -> None:
        self.waiters.notify(task_id)

    def publish_progress(self, task_id: str) -> None:
        self.waiters.notify(task_id, progress=True)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


class RedisEvents(_Watched):
    """Events across processes over Redis pub/sub (``start`` listens; publishing needs
    no listener, so a worker only ever publishes). ``on_event`` is told of outcome
    events received, not of progress."""

    def __init__(self, url: str, on_event: Callable[[str], None] | None = None) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.waiters = Waiters()
        self._on_event = on_event
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.subscribed = threading.Event()
        """Set while the listener holds a subscription (tests wait for it)."""

    def publish(self, task_id: str) -> None:
        self._publish(CHANNEL, task_id)

    def publish_progress(self, task_id: str) -> None:
        self._publish(PROGRESS_CHANNEL, task_id)

    def _publish(self, channel: str, task_id: str) -> None:
        # waiters in this process need no round trip
        self.waiters.notify(task_id, progress=channel == PROGRESS_CHANNEL)
        try:
            self._client.publish(channel, task_id)
        except Exception:  # the waiters' periodic re-read covers a lost event
            log.warning("could not publish a task event", exc_info=True, extra={"event": "pubsub"})

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="task-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._client.close()

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(CHANNEL, PROGRESS_CHANNEL)
                self.subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._received(message["channel"], message["data"])
            except Exception:  # Redis restarted or unreachable: subscribe again shortly
                self.subscribed.clear()
                log.warning("task events: Redis connection lost", extra={"event": "pubsub"})
                self._stop.wait(0.5)
            finally:
                self.subscribed.clear()
                try:
                    pubsub.close()
                except Exception:
                    log.debug("closing the subscription failed", exc_info=True)

    def _received(self, channel: bytes | str, data: bytes | str) -> None:
        task_id = _text(data)
        progress = _text(channel) == PROGRESS_CHANNEL
        self.waiters.notify(task_id, progress=progress)
        if self._on_event is not None and not progress:
            self._on_event(task_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def events_for(broker_url: str | None, on_event: Callable[[str], None] | None = None) -> TaskEvents:
    """Redis pub/sub with a broker configured, else in-process events."""
    if broker_url:
        return RedisEvents(broker_url, on_event)
    return LocalEvents()
