"""Standard Webhooks signatures, checked against the spec's HMAC computed here by hand.

Signing is the ``standardwebhooks`` library's; this test stays independent of it: it
builds ``v1,base64(HMAC-SHA256(key, "id.timestamp.body"))`` itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from canvasfill.jobs.callbacks import sign, verify
from canvasfill.jobs.keys import new_webhook_secret


def spec_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_signatures_are_the_specs_hmac() -> None:
    secret = new_webhook_secret()
    body = json.dumps({"type": "task.succeeded", "data": {"id": "t1"}}).encode()
    now = int(time.time())
    assert sign(secret, "msg_1", now, body) == spec_signature(secret, "msg_1", now, body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": spec_signature(secret, "msg_1", now, body),
    }
    assert verify(secret, headers, body)
    # a receiver may be sent several signatures (key rotation): one that matches is enough
    headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" x")  # not the signed body (nor JSON)


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
