"""Keys, credits, idempotency and rate limits through the real app."""

from __future__ import annotations

import base64
import concurrent.futures
from pathlib import Path

from service_testkit import LiveService, live_service, png, service_settings, wait_until

from canvasfill.api.ratelimit import RateLimiter


def expand_body(seed: int = 0, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "image": base64.b64encode(png(48, 40, seed=seed)).decode(),
        "ratios": {"right": 0.25},
        "engine": "telea",
    }
    body.update(extra)
    return body


def test_every_api_call_needs_a_valid_key(live: LiveService) -> None:
    with live.client() as anonymous:
        missing = anonymous.get("/v1/tasks")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "unauthorized"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = anonymous.get("/v1/tasks", headers={"Authorization": "Bearer cf_not-a-key"})
        assert wrong.status_code == 401
        scheme = anonymous.get("/v1/tasks", headers={"Authorization": f"Basic {live.new_key()}"})
        assert scheme.status_code == 401
        assert anonymous.post("/v1/expand", json=expand_body()).status_code == 401
    key = live.new_key(name="to revoke")
    with live.client(key) as client:
        assert client.get("/v1/tasks").status_code == 200
        record = live.runtime.keys.authenticate(key)
        assert record is not None
        live.runtime.keys.revoke(record.id)
        assert client.get("/v1/tasks").status_code == 401


def test_keys_are_stored_only_as_hashes(live: LiveService) -> None:
    key = live.new_key()
    for record in live.runtime.keys.list():
        assert key not in (record.key_hash, record.prefix, record.name)
    database = Path(live.runtime.settings.data_dir, "canvasfill.db").read_bytes()
    assert key.encode() not in database


def test_success_is_charged_per_image_and_failures_are_not(live: LiveService) -> None:
    key = live.new_key(credits=10)
    with live.client(key) as client:
        done = client.post("/v1/expand", json=expand_body(n=3), headers={"Prefer": "wait=30"})
        assert done.json()["status"] == "succeeded"
        assert client.get("/v1/account").json()["credits"] == 7

        refused = client.post("/v1/expand", json=expand_body(image="aGVsbG8="))
        assert refused.status_code == 422
        assert client.get("/v1/account").json()["credits"] == 7

        failed = client.post(
            "/v1/expand",
            json={
                "image_url": "http://127.0.0.1:9/unreachable.png",
                "ratios": {"left": 0.5},
                "engine": "telea",
                "n": 2,
            },
            headers={"Prefer": "wait=30"},
        )
        assert failed.json()["status"] == "failed"
        assert failed.json()["error"]["code"] == "download_failed"
        wait_until(
            lambda: (
                'canvasfill_task_failures_total{code="download_failed"}'
                in client.get("/metrics").text
            )
        )
        assert client.get("/v1/account").json()["credits"] == 7

        too_many = client.post("/v1/expand", json=expand_body(n=8))
        assert too_many.status_code == 402
        assert too_many.json()["error"]["code"] == "insufficient_credits"
        assert "7" in too_many.json()["error"]["message"]


def test_concurrent_spending_never_overdraws_a_key(live: LiveService) -> None:
    key = live.new_key(credits=5)
    with live.client(key) as client:

        def spend(seed: int) -> int:
            return client.post("/v1/expand", json=expand_body(seed=seed)).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(spend, range(12)))
        assert sorted(statuses) == [202] * 5 + [402] * 7
        record = live.runtime.keys.authenticate(key)
        assert record is not None
        assert record.credits == 0
        for task in client.get("/v1/tasks").json()["data"]:
            live.wait_for_task(task["id"], "succeeded")
        assert client.get("/v1/account").json()["credits"] == 0


def test_idempotency_key_returns_the_same_task(live: LiveService) -> None:
    key = live.new_key(credits=20)
    with live.client(key) as client:
        headers = {"Idempotency-Key": "order-42"}
        body = expand_body(seed=7)
        first = client.post("/v1/expand", json=body, headers=headers)
        again = client.post("/v1/expand", json=body, headers=headers)
        assert first.status_code == 202
        assert again.status_code in (200, 202)  # 200 once the first run already finished
        assert first.json()["id"] == again.json()["id"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            twins = list(
                pool.map(
                    lambda _: client.post(
                        "/v1/expand", json=expand_body(seed=8), headers={"Idempotency-Key": "k2"}
                    ).json()["id"],
                    range(4),
                )
            )
        assert len(set(twins)) == 1

        other_body = client.post("/v1/expand", json=expand_body(seed=9), headers=headers)
        assert other_body.status_code == 422
        assert other_body.json()["error"]["code"] == "idempotency_key_reused"

        listed = client.get("/v1/tasks").json()["data"]
        assert len(listed) == 2
        assert client.get("/v1/account").json()["credits"] == 18


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, limit_clock: list[float]) -> None:
    with live_service(service_settings(tmp_path)) as service:
        service.service.limiter = RateLimiter(2)  # time stands still (limit_clock)
        key, other = service.new_key(), service.new_key()
        with service.client(key) as client:
            statuses = [client.get("/v1/tasks") for _ in range(4)]
            assert [response.status_code for response in statuses] == [200, 200, 429, 429]
            limited = statuses[2]
            assert limited.headers["retry-after"] == "1"
            assert limited.json()["error"]["code"] == "rate_limited"
            with service.client(other) as other_client:
                assert other_client.get("/v1/tasks").status_code == 200  # per key, not global
            limit_clock[0] += 1.01  # a second later both requests have left the window
            assert [client.get("/v1/tasks").status_code for _ in range(3)] == [200, 200, 429]
