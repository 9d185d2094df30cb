"""Item 2: what answered 500 gets the door's own error (and /readyz sees unwritable stores)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import psycopg
import pytest
from service_testkit import (
    POSTGRES_ADMIN,
    fresh_postgres_database,
    live_service,
    service_settings,
)

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import AILAB_EXPAND, PHOTO_PNG, PICWISH_EXPAND


def test_a_non_ascii_signature_is_403(live: Live) -> None:
    response = live.client.get("/files/results/x/0.png", params={"expires": 9, "signature": "é"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "invalid_signature"


def test_a_cursor_past_any_sequence_number_is_400(live: Live) -> None:
    cursor = base64.urlsafe_b64encode(b"seq:" + b"9" * 23).decode().rstrip("=")
    response = live.client.get(
        "/v1/tasks", params={"cursor": cursor}, headers={"Authorization": f"Bearer {live.key}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_picwish_base64_query_of_a_removed_result_is_404(live: Live) -> None:
    key, _ = live.new_key()
    created = live.client.post(
        PICWISH_EXPAND,
        headers={"X-API-KEY": key},
        files={"image_file": ("p.png", PHOTO_PNG, "image/png")},
        data={"sync": "1", "return_type": "2"},
    )
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]
    runtime = live.server.runtime
    task = runtime.tasks.get(task_id)
    assert task is not None
    assert task.results
    runtime.blobs.delete_prefix(str(task.results[0]["key"]))
    response = live.client.get(f"{PICWISH_EXPAND}/{task_id}", headers={"X-API-KEY": key})
    assert response.status_code == 404, response.text
    assert response.json()["status"] == 404


def test_an_unwritable_blob_folder_is_503_and_not_ready(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data", default_engine="telea")
    with live_service(settings) as server, server.client() as client:
        key = server.new_key()
        blob_dir = settings.resolved_blob_dir
        shutil.rmtree(blob_dir)
        blob_dir.write_text("not a folder")  # root may write anywhere: a file blocks it
        response = client.post(
            AILAB_EXPAND,
            headers={"ailabapi-api-key": key},
            files={"image": ("p.png", PHOTO_PNG, "image/png")},
        )
        assert response.status_code == 503, response.text
        assert response.json()["error_detail"]["status_code"] == 503
        native = client.post(
            "/v1/expand",
            headers={"Authorization": f"Bearer {key}"},
            json={"image": base64.b64encode(PHOTO_PNG).decode(), "ratios": {"left": 0.1}},
        )
        assert native.status_code == 503, native.text
        assert native.json()["error"]["code"] == "storage_unavailable"
        assert client.get("/readyz").status_code == 503


@pytest.mark.services
def test_a_read_only_database_is_503_and_not_ready(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        settings = service_settings(tmp_path / "data", default_engine="telea", database_url=url)
        with live_service(settings) as server, server.client() as client:
            key = server.new_key()
            assert client.get("/readyz").status_code == 200
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
            statuses = [client.get("/readyz").status_code for _ in range(2)]
            assert statuses == [503, 503]
            response = client.post(
                "/v1/expand",
                headers={"Authorization": f"Bearer {key}"},
                json={"image": base64.b64encode(PHOTO_PNG).decode(), "ratios": {"left": 0.1}},
            )
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "storage_unavailable"
