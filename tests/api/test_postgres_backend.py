"""The same app on PostgreSQL: only the database URL differs from the embedded default."""

from __future__ import annotations

import base64
import concurrent.futures
from pathlib import Path

import httpx
import pytest
from service_testkit import fresh_postgres_database, image_size, live_service, png, service_settings


@pytest.mark.slow
@pytest.mark.services
def test_the_service_runs_on_postgresql(tmp_path: Path) -> None:
    with (
        fresh_postgres_database() as url,
        live_service(service_settings(tmp_path / "data", database_url=url)) as live,
    ):
        key = live.new_key(credits=3)
        body = {
            "image": base64.b64encode(png(50, 40)).decode(),
            "ratios": {"left": 0.2},
            "engine": "telea",
            "seed": 4_294_967_294,
        }
        with live.client(key) as client:

            def spend(_: int) -> httpx.Response:
                return client.post("/v1/expand", json=body, headers={"Prefer": "wait=30"})

            with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
                responses = list(pool.map(spend, range(5)))
            assert sorted(r.status_code for r in responses) == [200, 200, 200, 402, 402]
            done = next(r.json() for r in responses if r.status_code == 200)
            assert done["status"] == "succeeded"
            assert done["seed"] == 4_294_967_294
            assert image_size(httpx.get(done["results"][0]["url"]).content) == (60, 40)
            assert client.get("/v1/account").json()["credits"] == 0
            assert client.get("/readyz").json()["checks"]["migrations"] is True
