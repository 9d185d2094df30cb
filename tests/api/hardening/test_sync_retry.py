"""Item 11: a synchronous call retried while its task still runs joins that task
(same key, same body) instead of starting and charging it again, on every sync door."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.dialects.live import Live, live_app
from tests.api.hardening.conftest import AILAB_EXPAND, PHOTO_PNG, PICWISH_EXPAND, STABILITY

SLEEP = "1.5"  # the sleepy engine's prompt: how long it takes


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("slow"), default_engine="sleepy")


def _door(name: str, key: str, prompt: str) -> dict[str, object]:
    image = ("p.png", PHOTO_PNG, "image/png")
    if name == "ailab":
        return {
            "url": AILAB_EXPAND,
            "headers": {"ailabapi-api-key": key},
            "files": {"image": image},
            "data": {"custom_prompt": prompt},
        }
    if name == "stability":
        return {
            "url": STABILITY,
            "headers": {"authorization": key},
            "files": {"image": image},
            "data": {"prompt": prompt, "left": "8"},
        }
    return {
        "url": PICWISH_EXPAND,
        "headers": {"X-API-KEY": key},
        "files": {"image_file": image},
        "data": {"prompt": prompt, "sync": "1"},
    }


@pytest.mark.parametrize("door", ["ailab", "stability", "picwish"])
def test_a_retry_after_a_client_timeout_joins_the_running_task(slow: Live, door: str) -> None:
    key, key_id = slow.new_key(credits=100)
    with (
        httpx.Client(base_url=slow.server.base_url, timeout=0.5) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.post(**_door(door, key, SLEEP))  # type: ignore[arg-type]
    retry = slow.client.post(**_door(door, key, SLEEP))  # type: ignore[arg-type]
    assert retry.status_code == 200, retry.text[:300]
    tasks = slow.server.runtime.tasks.list_for_key(key_id, 10)
    assert len(tasks) == 1, [task.status for task in tasks]
    spent = 100 - (slow.credits(key_id) or 0)
    assert spent == (8 if door == "stability" else 1)
    # once it has finished, the same request is new work
    again = slow.client.post(**_door(door, key, "0"))  # type: ignore[arg-type]
    assert again.status_code == 200
    again = slow.client.post(**_door(door, key, "0"))  # type: ignore[arg-type]
    assert again.status_code == 200
    assert len(slow.server.runtime.tasks.list_for_key(key_id, 10)) == 3


def test_a_different_body_is_not_joined(slow: Live) -> None:
    key, key_id = slow.new_key()
    with (
        httpx.Client(base_url=slow.server.base_url, timeout=0.3) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.post(**_door("ailab", key, "1.0"))  # type: ignore[arg-type]
    other = slow.client.post(**_door("ailab", key, "0.1"))  # type: ignore[arg-type]
    assert other.status_code == 200
    assert len(slow.server.runtime.tasks.list_for_key(key_id, 10)) == 2
