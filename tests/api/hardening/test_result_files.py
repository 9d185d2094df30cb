"""Issue 26 item 13: HEAD on a signed result URL answers as GET does, without the body."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PHOTO_PNG


def finished(live: Live) -> dict[str, Any]:
    response = live.client.post(
        "/v1/expand",
        json={
            "image": base64.b64encode(PHOTO_PNG).decode(),
            "pixels": {"left": 8},
            "engine": "telea",
        },
        headers={"Authorization": f"Bearer {live.key}", "Prefer": "wait=30"},
    )
    task: dict[str, Any] = response.json()
    assert task["status"] == "succeeded", task
    return task


def test_head_on_a_signed_result_url_answers_its_headers(live: Live) -> None:
    url = finished(live)["results"][0]["url"]
    got = httpx.get(url)
    head = httpx.head(url)
    assert head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == "image/png"
    assert head.headers["content-length"] == str(len(got.content))
    assert "max-age=" in head.headers["cache-control"]
    assert httpx.head(url.replace("signature=", "signature=0")).status_code == 403
