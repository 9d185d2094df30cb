"""Standard Webhooks signing agrees with the reference implementation."""

from __future__ import annotations

import json
import time

import standardwebhooks

from canvasfill.jobs.callbacks import sign, verify
from canvasfill.jobs.keys import new_webhook_secret


def test_signatures_verify_with_the_reference_library() -> None:
    secret = new_webhook_secret()
    body = json.dumps({"type": "task.succeeded", "data": {"id": "t1"}}).encode()
    now = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(secret, "msg_1", now, body),
    }
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {
        "type": "task.succeeded",
        "data": {"id": "t1"},
    }
    assert verify(secret, headers, body)


def test_tampering_and_old_timestamps_fail() -> None:
    secret = new_webhook_secret()
    body = b'{"a": 1}'
    old = int(time.time()) - 3600
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(old),
        "webhook-signature": sign(secret, "msg_2", old, body),
    }
    assert not verify(secret, headers, body)  # replayed too late
    now = int(time.time())
    headers = {**headers, "webhook-timestamp": str(now)}
    assert not verify(secret, headers, body)  # signature was for another timestamp
    headers["webhook-signature"] = sign(secret, "msg_2", now, body)
    assert verify(secret, headers, body)
    assert not verify(new_webhook_secret(), headers, body)
    assert not verify(secret, {**headers, "webhook-id": "msg_3"}, body)
