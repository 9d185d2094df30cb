"""Callbacks to a loopback receiver: Standard Webhooks signatures, retries after a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from service_testkit import LiveService, Loopback, loopback, png, respond, wait_until

from canvasfill.jobs.callbacks import verify
from tests.jobs.test_callback_signing import spec_signature


def flaky(handler: BaseHTTPRequestHandler, state: Loopback) -> None:
    # the first delivery of each message fails with a 500, the retry succeeds
    message = handler.headers["webhook-id"]
    seen = [r for r in state.hits("/flaky") if r.headers.get("webhook-id") == message]
    respond(handler, 500 if len(seen) == 1 else 204)


def always_down(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 503)


def gone(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 410)


def ok(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 200)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Loopback]:
    routes = {"/flaky": flaky, "/down": always_down, "/gone": gone, "/ok": ok}
    with loopback(routes) as server:
        yield server


def create(live: LiveService, key: str, callback_url: str, **extra: object) -> str:
    body = {
        "image": base64.b64encode(png(40, 30)).decode(),
        "ratios": {"top": 0.5},
        "engine": "telea",
        "callback_url": callback_url,
        **extra,
    }
    with live.client(key) as client:
        response = client.post("/v1/expand", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def secret_of(live: LiveService, key: str) -> str:
    record = live.runtime.keys.authenticate(key)
    assert record is not None
    return record.webhook_secret


@pytest.mark.slow
def test_a_callback_is_signed_and_retried_after_a_500(
    live: LiveService, receiver: Loopback
) -> None:
    key = live.new_key()
    task_id = create(live, key, receiver.url("/flaky"))

    def delivered() -> bool:
        task = live.runtime.tasks.get(task_id)
        return task is not None and task.callback_state == "delivered"

    wait_until(delivered, timeout=30)
    attempts = [r for r in receiver.hits("/flaky") if json.loads(r.body)["data"]["id"] == task_id]
    assert len(attempts) == 2
    assert attempts[0].headers["webhook-id"] == attempts[1].headers["webhook-id"]
    secret = secret_of(live, key)
    for attempt in attempts:
        payload = json.loads(attempt.body)
        assert payload["type"] == "task.succeeded"
        assert payload["data"]["status"] == "succeeded"
        assert payload["data"]["results"][0]["url"].startswith(live.base_url)
        assert verify(secret, attempt.headers, attempt.body)
        # the spec's HMAC, computed by hand, is what was sent
        headers = attempt.headers
        stamp = int(headers["webhook-timestamp"])
        expected = spec_signature(secret, headers["webhook-id"], stamp, attempt.body)
        assert headers["webhook-signature"] == expected
        assert not verify(secret, attempt.headers, attempt.body + b" ")
    with live.client(key) as client:
        callback = client.get(f"/v1/tasks/{task_id}").json()["callback"]
    assert callback == {"url": receiver.url("/flaky"), "state": "delivered", "attempts": 2}


def test_retries_stop_after_the_limit(live: LiveService, receiver: Loopback) -> None:
    task_id = create(live, live.new_key(), receiver.url("/down"))

    def gave_up() -> bool:
        task = live.runtime.tasks.get(task_id)
        return task is not None and task.callback_state == "failed"

    wait_until(gave_up, timeout=60)
    [delivery] = live.runtime.deliveries.for_task(task_id)
    assert delivery.attempts == live.runtime.settings.callback_max_attempts == 8
    assert delivery.last_status == 503


def test_a_4xx_answer_is_not_retried(live: LiveService, receiver: Loopback) -> None:
    task_id = create(live, live.new_key(), receiver.url("/gone"))
    wait_until(lambda: (t := live.runtime.tasks.get(task_id)) and t.callback_state == "failed")
    [delivery] = live.runtime.deliveries.for_task(task_id)
    assert (delivery.attempts, delivery.last_status) == (1, 410)


def test_every_state_change_can_be_reported(live: LiveService, receiver: Loopback) -> None:
    task_id = create(live, live.new_key(), receiver.url("/ok"), callback_events="change")
    wait_until(lambda: len(live.runtime.deliveries.for_task(task_id)) == 2)
    wait_until(
        lambda: all(d.state == "delivered" for d in live.runtime.deliveries.for_task(task_id))
    )
    events = [
        json.loads(r.body)["type"]
        for r in receiver.hits("/ok")
        if json.loads(r.body)["data"]["id"] == task_id
    ]
    assert events == ["task.running", "task.succeeded"]
