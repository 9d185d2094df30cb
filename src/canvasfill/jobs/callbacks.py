"""Callbacks: POST the task to the caller's ``callback_url``, signed as Standard Webhooks.

Each message has a ``webhook-id`` (the same on every retry, so receivers can drop
duplicates), a ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`` made with the key's ``whsec_`` secret. Deliveries are rows in the
database, queued in the same transaction as the state change they report, so a restart
loses none. A 5xx, a timeout or a refused connection is retried with exponential
backoff; a 2xx is done; anything else, or too many attempts, is given up. The outcome
is recorded on the delivery and on its task.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from canvasfill.errors import FetchError
from canvasfill.jobs.fetch import AddressPolicy
from canvasfill.jobs.runtime import Runtime
from canvasfill.jobs.tables import CallbackDelivery, DeliveryState, Task, utcnow

log = logging.getLogger(__name__)

Renderer = Callable[[Task, str], dict[str, Any]]
"""(task, event) → the JSON body a callback carries, in the task's dialect."""


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> bool:
    """Check a received callback (what a receiver does; used by tests and examples)."""
    try:
        timestamp = int(headers["webhook-timestamp"])
        expected = sign(secret, headers["webhook-id"], timestamp, body)
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    offered = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


class CallbackSender:
    """A thread that sends due deliveries; ``wake()`` makes it look at once."""

    def __init__(self, runtime: Runtime, render: Renderer) -> None:
        self._runtime = runtime
        self._render = render
        self._poll_s = runtime.settings.callback_poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._policy = AddressPolicy(runtime.settings.url_allow)

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
        with httpx.Client(
            timeout=settings.callback_timeout_s, follow_redirects=False, trust_env=False
        ) as client:
            while not self._stop.is_set():
                self._wake.wait(self._poll_s)
                self._wake.clear()
                try:
                    for delivery in self._runtime.deliveries.due():
                        if self._stop.is_set():
                            return
                        if self._runtime.deliveries.take(delivery, hold):
                            self.deliver(client, delivery)
                except Exception:
                    log.exception("callback loop failed", extra={"event": "callback_error"})

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
