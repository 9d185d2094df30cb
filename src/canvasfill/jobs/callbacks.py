"""Callbacks: POST the task to the caller's ``callback_url``, signed as Standard Webhooks.

Each message has a ``webhook-id`` (the same on every retry, so receivers can drop
duplicates), a ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`` made with the key's ``whsec_`` secret. Deliveries are rows in the
database, queued in the same transaction as the state change they report, so a restart
loses none. They are sent concurrently, a few at a time per destination (see
``CallbackSender``). A 5xx, a timeout or a refused connection is retried with exponential
backoff; a 2xx is done; anything else, or too many attempts, is given up. The outcome
is recorded on the delivery and on its task.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

from canvasfill.errors import FetchError
from canvasfill.jobs.fetch import AddressPolicy
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.tables import CallbackDelivery, DeliveryState, Task, utcnow

log = logging.getLogger(__name__)

Renderer = Callable[[Task, str], dict[str, Any]]
"""(task, event) → the JSON body a callback carries, in the task's dialect."""


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message (the ``standardwebhooks``
    reference library signs: the spec's byte layout is its to get right, not ours)."""
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    # the body is JSON we made, so UTF-8: older releases of the library sign text only
    return str(Webhook(secret).sign(message_id, at, body.decode()))


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check a received callback as a receiver does, with the library's five-minute window
    against replays (used by tests and examples)."""
    try:
        Webhook(secret).verify(body, headers)
    except (WebhookVerificationError, ValueError):  # ValueError: a body that is not JSON
        return False
    return True


def destination_of(url: str) -> str:
    """What the per-destination bound counts: scheme, host and port of ``url``."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return url
    port = parsed.port or _DEFAULT_PORTS.get(parsed.scheme)
    return f"{parsed.scheme}://{parsed.host}:{port}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


class CallbackSender:
    """Sends due deliveries from a pool of threads; ``wake()`` makes it look at once.

    An endpoint that never answers holds a sender for a whole timeout per attempt: with
    one sending thread, five such deliveries delayed every other tenant's callbacks by
    50 s. So sends run concurrently (``callback_concurrency``) and at most
    ``callback_per_destination`` go to one destination at once: a dead endpoint ties up
    that many senders, never all of them, and the rest deliver to everyone else. A
    delivery is taken (held) only when a sender is free to send it at once, so no held
    delivery waits in memory past its hold.
    """

    _PAGE = 100
    _SCAN = 1000
    """Due rows read per look at most: a large backlog for a busy destination is read
    past (to deliveries that can go now) at a bounded cost."""

    def __init__(self, runtime: Runtime, render: Renderer) -> None:
        self._runtime = runtime
        self._render = render
        settings = runtime.settings
        self._poll_s = settings.callback_poll_s
        self._concurrency = settings.callback_concurrency
        self._per_destination = settings.callback_per_destination
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._policy = AddressPolicy(settings.url_allow)
        self._lock = threading.Lock()
        self._busy: Counter[str] = Counter()
        """Deliveries in flight, by destination."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="callbacks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _loop(self) -> None:
        settings = self._runtime.settings
        # every API node runs a sender: each delivery is taken (held) before it is sent
        hold = timedelta(seconds=settings.callback_timeout_s + 5)
        limits = httpx.Limits(
            max_connections=self._concurrency, max_keepalive_connections=self._concurrency
        )
        # leaving the block waits for the sends in flight (each within its timeout),
        # then closes the client they share
        with (
            httpx.Client(
                timeout=settings.callback_timeout_s,
                limits=limits,
                follow_redirects=False,
                trust_env=False,
            ) as client,
            ThreadPoolExecutor(self._concurrency, thread_name_prefix="callback") as pool,
        ):
            while not self._stop.is_set():
                self._wake.wait(self._poll_s)
                self._wake.clear()
                try:
                    self._send_due(client, pool, hold)
                except Exception:
                    log.exception("callback loop failed", extra={"event": "callback_error"})

    def _send_due(self, client: httpx.Client, pool: ThreadPoolExecutor, hold: timedelta) -> None:
        """Start every due delivery a sender is free for, oldest first."""
        after: tuple[datetime, str] | None = None
        scanned = 0
        while scanned < self._SCAN and not self._stop.is_set():
            page = self._runtime.deliveries.due(self._PAGE, after)
            if not page:
                return
            scanned += len(page)
            after = (page[-1].next_attempt_at, page[-1].id)
            for delivery in page:
                if self._stop.is_set() or self._in_flight() >= self._concurrency:
                    return
                destination = destination_of(delivery.url)
                if not self._reserve(destination):
                    continue  # its destination is at its bound: read on
                if self._runtime.deliveries.take(delivery, hold):
                    pool.submit(self._send, client, delivery, destination)
                else:  # another node took it first
                    self._release(destination)

    def _in_flight(self) -> int:
        with self._lock:
            return self._busy.total()

    def _reserve(self, destination: str) -> bool:
        with self._lock:
            if self._busy.total() >= self._concurrency:
                return False
            if self._busy[destination] >= self._per_destination:
                return False
            self._busy[destination] += 1
            return True

    def _release(self, destination: str) -> None:
        with self._lock:
            self._busy[destination] -= 1
            if self._busy[destination] <= 0:
                del self._busy[destination]

    def _send(self, client: httpx.Client, delivery: CallbackDelivery, destination: str) -> None:
        try:
            self.deliver(client, delivery)
        except Exception:
            log.exception("callback failed", extra={"event": "callback_error"})
        finally:
            self._release(destination)
            self._wake.set()  # a sender is free: look for what waited on it

    def deliver(self, client: httpx.Client, delivery: CallbackDelivery) -> DeliveryState:
        """Make one attempt at ``delivery`` and record what happened."""
        runtime = self._runtime
        task = runtime.tasks.get(delivery.task_id)
        key = runtime.keys.get(task.key_id) if task is not None else None
        if task is None or key is None:
            return self._record(delivery, DeliveryState.FAILED, None, "the task is gone")
        body = json.dumps(self._render(task, delivery.event), default=str).encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(key.webhook_secret, delivery.id, timestamp, body),
            "user-agent": "canvasfill-webhooks",
        }
        try:
            pinned = self._policy.pinned(delivery.url, "callback_url")
            response = client.post(
                pinned.url,
                content=body,
                headers=headers | pinned.headers,
                extensions=pinned.extensions,
            )
        except FetchError as exc:
            return self._record(delivery, DeliveryState.FAILED, None, exc.message)
        except httpx.HTTPError as exc:
            return self._retry(delivery, None, f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return self._record(delivery, DeliveryState.DELIVERED, response.status_code, None)
        if response.status_code >= 500:
            return self._retry(delivery, response.status_code, f"HTTP {response.status_code}")
        return self._record(
            delivery, DeliveryState.FAILED, response.status_code, f"HTTP {response.status_code}"
        )

    def _retry(self, delivery: CallbackDelivery, status: int | None, error: str) -> DeliveryState:
        settings = self._runtime.settings
        if delivery.attempts + 1 >= settings.callback_max_attempts:
            return self._record(delivery, DeliveryState.FAILED, status, error)
        delay = settings.callback_backoff_s * 2**delivery.attempts
        retry_at = utcnow() + timedelta(seconds=delay)
        return self._record(delivery, DeliveryState.PENDING, status, error, retry_at)

    def _record(
        self,
        delivery: CallbackDelivery,
        state: DeliveryState,
        status: int | None,
        error: str | None,
        retry_at: Any = None,
    ) -> DeliveryState:
        self._runtime.deliveries.record(
            delivery.id, state, status=status, error=error, retry_at=retry_at
        )
        log.info(
            "callback %s",
            state.value,
            extra={"event": "callback", "task_id": delivery.task_id, "status": status},
        )
        return state
