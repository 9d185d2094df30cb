"""Result URLs: signed, refused when tampered with or expired; the sweeper removes blobs."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from service_testkit import LiveService, png
from sqlalchemy import update

from canvasfill.jobs.sweeper import sweep
from canvasfill.jobs.tables import Task


def finished_task(live: LiveService, key: str) -> dict[str, object]:
    with live.client(key) as client:
        response = client.post(
            "/v1/expand",
            json={
                "image": base64.b64encode(png(40, 40)).decode(),
                "pixels": {"left": 8},
                "engine": "telea",
            },
            headers={"Prefer": "wait=30"},
        )
    task: dict[str, object] = response.json()
    assert task["status"] == "succeeded"
    return task


@pytest.mark.slow
def test_nothing_is_served_without_a_valid_signature(live: LiveService) -> None:
    task = finished_task(live, live.new_key())
    url = task["results"][0]["url"]  # type: ignore[index]
    assert httpx.get(url).status_code == 200
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    expires, signature = query["expires"][0], query["signature"][0]

    unsigned = httpx.get(base)
    assert unsigned.status_code == 403
    assert unsigned.json()["error"]["code"] == "invalid_signature"
    forged = httpx.get(base, params={"expires": expires, "signature": "0" * 64})
    assert forged.status_code == 403
    longer = httpx.get(base, params={"expires": int(expires) + 3600, "signature": signature})
    assert longer.status_code == 403  # the expiry is part of what is signed
    other = base.replace("/0.png", "/1.png")
    assert httpx.get(other, params={"expires": expires, "signature": signature}).status_code == 403
    outside = f"{parts.scheme}://{parts.netloc}/files/../canvasfill.db"
    assert httpx.get(outside, params={"expires": expires, "signature": signature}).status_code in (
        403,
        404,
    )


def test_a_url_past_its_expiry_is_refused(live: LiveService) -> None:
    task = finished_task(live, live.new_key())
    key = urlsplit(task["results"][0]["url"]).path.removeprefix("/files/")  # type: ignore[index]
    past = int(time.time()) - 1
    url = live.runtime.blobs.url(key, datetime.fromtimestamp(past, UTC), live.base_url)
    expired = httpx.get(url)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "url_expired"


def test_the_sweeper_deletes_expired_blobs_and_marks_results_expired(live: LiveService) -> None:
    api_key = live.new_key()
    task = finished_task(live, api_key)
    task_id = str(task["id"])
    url = task["results"][0]["url"]  # type: ignore[index]
    blobs = live.runtime.blobs
    assert blobs.exists(f"inputs/{task_id}/image")

    assert task_id not in sweep(live.runtime)  # not yet due
    with live.runtime.sessions.begin() as session:
        session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(results_expire_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert task_id in sweep(live.runtime)
    assert not blobs.exists(f"inputs/{task_id}/image")
    assert not blobs.exists(f"results/{task_id}/0.png")
    with live.client(api_key) as client:
        after = client.get(f"/v1/tasks/{task_id}").json()
    assert after["results"] == []
    assert after["results_expired"] is True
    assert httpx.get(url).status_code in (404, 410)


def test_a_result_comes_whole_ranged_and_as_headers_alike(live: LiveService) -> None:
    """A whole GET (sent from the bytes its endpoint read), a range and a HEAD of one
    result agree with the stored file: the same bytes, length and ETag."""
    task = finished_task(live, live.new_key())
    url = task["results"][0]["url"]  # type: ignore[index]
    key = urlsplit(url).path.removeprefix("/files/")
    stored = live.runtime.blobs.get(key)
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.content == stored
    assert whole.headers["content-length"] == str(len(stored))
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["etag"]
    ranged = httpx.get(url, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206
    assert ranged.content == stored[:8]
    head = httpx.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(stored))
    assert head.headers["etag"] == whole.headers["etag"]
