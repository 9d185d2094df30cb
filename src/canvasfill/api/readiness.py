"""What ``/readyz`` asks each dependency, each answer bounded by ``ready_timeout_s``.

A frozen store or a stopped broker used to hang the probe itself (no answer in 20 s),
so a load balancer learned nothing. Each check runs in a thread of its own and is
counted false when it has not answered by the deadline, and its name is listed under
``timed_out``. A check still running from an earlier probe is waited on again, never
started twice: a dependency that hangs ties up one thread, whatever the probe rate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from sqlalchemy import text

from canvasfill.api.service import Service
from canvasfill.jobs.database import is_current

_WRITE_PROBE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")

Check = Callable[[], dict[str, bool]]
"""One dependency's check: its named results (the database gives two)."""


def database_checks(service: Service) -> dict[str, bool]:
    runtime = service.runtime
    try:
        with runtime.db.begin() as connection:
            # a write that changes nothing: a read-only database (or a replica) fails it
            connection.execute(_WRITE_PROBE)
        return {"database": True, "migrations": is_current(runtime.db)}
    except Exception:
        return {"database": False, "migrations": False}


def broker_ready(url: str, timeout_s: float) -> bool:
    """The Redis broker answers a PING within ``timeout_s`` (connecting included)."""
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry_on_timeout=False
    )
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def checks_for(service: Service) -> dict[str, tuple[tuple[str, ...], Check]]:
    """Every dependency of ``service``: name → (the results it gives, its check)."""
    settings = service.runtime.settings
    deadline = settings.ready_timeout_s
    checks: dict[str, tuple[tuple[str, ...], Check]] = {
        "database": (("database", "migrations"), lambda: database_checks(service)),
        "blobs": (("blobs",), lambda: {"blobs": service.runtime.blobs.ready()}),
    }
    broker = settings.broker_url
    if broker:
        checks["broker"] = (("broker",), lambda: {"broker": broker_ready(broker, deadline)})
    return checks


NEEDED_BY_NEW_TASKS = ("database", "blobs", "broker")
"""What accepting a task needs: its record, its inputs, and its message."""


@dataclass
class Readiness:
    """The probes of one app, with the checks still running from earlier ones."""

    running: dict[str, Future[dict[str, bool]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fresh_s: float = 1.0
    """How long one probe's answer serves :meth:`down` (one probe a second under load)."""
    _last: tuple[float, list[str]] = (float("-inf"), [])

    def down(self, service: Service) -> list[str]:
        """The dependencies a new task needs that did not answer the latest probe (at most
        ``fresh_s`` old, else probed now, bounded by ``ready_timeout_s``): the doors
        refuse work while any is down, before storing or charging anything."""
        taken, names = self._last
        if monotonic() - taken <= self.fresh_s:
            return names
        checks = self.probe(service)["checks"]
        names = [name for name in NEEDED_BY_NEW_TASKS if checks.get(name) is False]
        self._last = (monotonic(), names)
        return names

    def probe(self, service: Service) -> dict[str, Any]:
        """Run every check (or wait on its earlier run) until the deadline; the body."""
        deadline = monotonic() + service.runtime.settings.ready_timeout_s
        dependencies = checks_for(service)
        futures = {name: self._start(name, check) for name, (_, check) in dependencies.items()}
        results: dict[str, Any] = {}
        timed_out: list[str] = []
        for name, future in futures.items():
            try:
                results.update(future.result(timeout=max(0.0, deadline - monotonic())))
            except FutureTimeout:
                timed_out.append(name)
                results.update(dict.fromkeys(dependencies[name][0], False))
            except Exception:
                results.update(dict.fromkeys(dependencies[name][0], False))
        # the embedded pool: not before a worker has warmed its engines (a first task
        # would wait for that warm-up); Celery: its publisher runs
        results["dispatcher"] = service.dispatcher.ready()
        body: dict[str, Any] = {"checks": results}
        if timed_out:
            body["timed_out"] = timed_out
        return body

    def _start(self, name: str, check: Check) -> Future[dict[str, bool]]:
        with self.lock:
            earlier = self.running.get(name)
            if earlier is not None and not earlier.done():
                return earlier
            future: Future[dict[str, bool]] = Future()
            self.running[name] = future

        def run() -> None:
            try:
                future.set_result(check())
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name=f"readyz-{name}", daemon=True).start()
        return future
