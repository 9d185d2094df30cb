"""Item 4: Kling ``external_task_id`` is unique per key, also under concurrent creates."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from service_testkit import fresh_postgres_database

from tests.api.dialects.live import Live, live_app
from tests.api.hardening.conftest import KLING, PHOTO_PNG, kling_headers

CONCURRENT = 12


def test_concurrent_creates_with_one_external_id_store_one_task(live: Live) -> None:
    _race(live)


@pytest.mark.slow
@pytest.mark.services
def test_the_same_race_on_postgresql(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        for live in live_app(tmp_path, database_url=url):
            _race(live)


def _race(live: Live) -> None:
    _key, key_id = live.new_key()
    body = {
        "image": base64.b64encode(PHOTO_PNG).decode(),
        "left_expansion_ratio": 0.1,
        "external_task_id": "order-42",
    }
    headers = kling_headers(live, key_id)

    def create(_index: int) -> httpx.Response:
        with httpx.Client(base_url=live.server.base_url, timeout=60) as client:
            return client.post(KLING, headers=headers, json=body)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(create, range(CONCURRENT)))
    codes = sorted((answer.status_code, answer.json()["code"]) for answer in answers)
    assert codes == [(200, 0)] + [(400, 1201)] * (CONCURRENT - 1), codes
    loser = next(answer.json() for answer in answers if answer.json()["code"])
    assert "order-42" in loser["message"]
    assert "already used" in loser["message"]
    stored = live.server.runtime.tasks.list_for_key(key_id, 100, dialect="kling")
    assert [task.external_id for task in stored] == ["order-42"]
    # another key may use the same id
    _other, other_id = live.new_key()
    other = live.client.post(KLING, headers=kling_headers(live, other_id), json=body)
    assert other.json()["code"] == 0, other.text
