"""``POST /v1/masks`` (issue 25): a task on the workers whose one result is the detected mask.

The detectors are the tiny graphs of :mod:`tests.engines.onnx_graphs` (bright pixels are
text and subject), re-pinned in the spawned worker by ``canvasfill_test_engines``, so
what is found is known exactly: the bright caption of ``_photo``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from service_testkit import LiveService, live_service, service_settings
from sqlalchemy import update

from canvasfill.jobs.tables import Task
from canvasfill.settings import Settings
from tests.conftest import encode
from tests.engines.onnx_graphs import install, isolate_models, ppocr_det_like, u2netp_like

WIDTH, HEIGHT = 160, 100
CAPTION = (slice(70, 82), slice(20, 140))


def _photo() -> np.ndarray:
    """A dark gradient (no text, no subject for the tiny graphs) with a bright caption."""
    ramp = np.linspace(10, 60, WIDTH, dtype=np.float32)
    image = np.repeat(np.repeat(ramp[None, :, None], HEIGHT, axis=0), 3, axis=2)
    image = image.astype(np.uint8)
    image[CAPTION] = 250
    return image


PHOTO = encode(_photo())
PLAIN = encode(np.full((HEIGHT, WIDTH, 3), 20, dtype=np.uint8))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _detectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_models(tmp_path, monkeypatch)
    install("u2netp", u2netp_like(tmp_path / "u2netp_like.onnx"), monkeypatch)
    install("ppocr-det", ppocr_det_like(tmp_path / "ppocr_like.onnx"), monkeypatch)
    monkeypatch.setenv("CANVASFILL_TEST_DETECTORS", "1")


@pytest.fixture(scope="module")
def module_patch() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def free(
    tmp_path_factory: pytest.TempPathFactory, module_patch: pytest.MonkeyPatch
) -> Iterator[LiveService]:
    """A service with the default prices (masks free) and the tiny detectors."""
    folder = tmp_path_factory.mktemp("masks")
    _detectors(folder, module_patch)
    with live_service(service_settings(folder / "data")) as live:
        yield live


def _mask_of(task: dict[str, object]) -> np.ndarray:
    results = task["results"]
    assert isinstance(results, list)
    assert len(results) == 1
    [result] = results
    assert (result["width"], result["height"], result["format"]) == (WIDTH, HEIGHT, "png")
    response = httpx.get(result["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.mode == "L"
        return np.asarray(image)


def _assert_caption_mask(mask: np.ndarray) -> None:
    assert mask.shape == (HEIGHT, WIDTH)
    assert set(np.unique(mask).tolist()) == {0, 255}
    assert (mask[CAPTION] == 255).all()
    rows, cols = np.nonzero(mask == 255)
    # the caption's box, unclipped and dilated by some pixels: nothing far from it
    assert rows.min() >= 50
    assert rows.max() < 100
    assert cols.min() > 0
    assert cols.max() < WIDTH - 1


def test_json_text_mask_is_the_caption_and_free(free: LiveService) -> None:
    key = free.new_key(credits=2)
    with free.client(key) as client:
        response = client.post(
            "/v1/masks",
            json={"image": b64(PHOTO), "detect": "text"},
            headers={"Prefer": "wait=30"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["preference-applied"] == "wait=30"
        task = response.json()
        assert task["status"] == "succeeded", task
        assert (task["operation"], task["engine"], task["progress"]) == ("mask", "detect", 100)
        _assert_caption_mask(_mask_of(task))
        again = client.get(f"/v1/tasks/{task['id']}").json()
        assert again["results"] == task["results"]
    record = free.runtime.keys.authenticate(key)
    assert record is not None
    assert record.credits == 2


def test_multipart_subject_mask_async_then_polled(free: LiveService) -> None:
    with free.client(free.new_key()) as client:
        created = client.post(
            "/v1/masks",
            files={"image": ("photo.png", PHOTO, "image/png")},
            data={"detect": "subject"},
        )
        assert created.status_code == 202, created.text
        assert created.headers["location"] == f"/v1/tasks/{created.json()['id']}"
        task = free.wait_for_task(created.json()["id"], "succeeded")
        assert task.operation == "mask"
        body = client.get(f"/v1/tasks/{task.id}").json()
    _assert_caption_mask(_mask_of(body))


def test_nothing_found_fails_with_nothing_to_remove(free: LiveService) -> None:
    with free.client(free.new_key()) as client:
        response = client.post(
            "/v1/masks",
            json={"image": b64(PLAIN), "detect": "text"},
            headers={"Prefer": "wait=30"},
        )
    task = response.json()
    assert task["status"] == "failed", task
    assert task["error"]["code"] == "nothing_to_remove"
    assert task["error"]["field"] == "detect"
    assert "no text was found" in task["error"]["message"]
    assert task["results"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"image": b64(PHOTO)}, "detect"),
        ({"image": b64(PHOTO), "detect": "faces"}, "detect"),
        ({"image": b64(PHOTO), "detect": "text", "mask": b64(PHOTO)}, "mask"),
        ({"image": b64(PHOTO), "detect": "text", "engine": "patch"}, "engine"),
        ({"image": b64(PHOTO), "image_url": "http://127.0.0.1/a.png", "detect": "text"}, "image"),
        ({"detect": "text"}, "image"),
        ({"image": "not base64!", "detect": "text"}, "image"),
    ],
)
def test_bad_requests_are_refused_with_their_field(
    free: LiveService, body: dict[str, str], field: str
) -> None:
    with free.client(free.new_key()) as client:
        response = client.post("/v1/masks", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", field)


def test_a_mask_file_part_is_refused_and_a_key_is_required(free: LiveService) -> None:
    with free.client(free.new_key()) as client:
        response = client.post(
            "/v1/masks",
            files={"image": ("p.png", PHOTO, "image/png"), "mask": ("m.png", PHOTO, "image/png")},
            data={"detect": "text"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "mask"
    with free.client() as anonymous:
        assert anonymous.post("/v1/masks", json={"detect": "text"}).status_code == 401


def test_an_idempotency_key_returns_the_first_task(free: LiveService) -> None:
    with free.client(free.new_key()) as client:
        headers = {"Idempotency-Key": "mask-1"}
        first = client.post(
            "/v1/masks", json={"image": b64(PHOTO), "detect": "text"}, headers=headers
        )
        second = client.post(
            "/v1/masks", json={"image": b64(PHOTO), "detect": "text"}, headers=headers
        )
        other = client.post(
            "/v1/masks", json={"image": b64(PHOTO), "detect": "subject"}, headers=headers
        )
    assert first.json()["id"] == second.json()["id"]
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_priced_masks_are_charged_when_found_and_returned_when_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _detectors(tmp_path, monkeypatch)
    settings = service_settings(tmp_path / "data", price_per_image={"mask": 1})
    assert Settings(data_dir=tmp_path / "d").price_for("mask") == 0
    with live_service(settings) as live:
        key = live.new_key(credits=3)
        with live.client(key) as client:
            wait = {"Prefer": "wait=30"}
            found = client.post(
                "/v1/masks", json={"image": b64(PHOTO), "detect": "text"}, headers=wait
            )
            missed = client.post(
                "/v1/masks", json={"image": b64(PLAIN), "detect": "text"}, headers=wait
            )
        record = live.runtime.keys.authenticate(key)
    assert found.json()["status"] == "succeeded"
    assert missed.json()["error"]["code"] == "nothing_to_remove"
    assert record is not None
    assert record.credits == 2


def test_missing_weights_fail_the_task_naming_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASFILL_MODELS_DIR", str(tmp_path / "no-models"))
    with live_service(service_settings(tmp_path / "data")) as live, live.client() as client:
        client.headers["Authorization"] = f"Bearer {live.new_key()}"
        response = client.post(
            "/v1/masks",
            json={"image": b64(PHOTO), "detect": "subject"},
            headers={"Prefer": "wait=30"},
        )
    task = response.json()
    assert task["status"] == "failed", task
    assert task["error"]["code"] == "engine_unavailable"
    assert "canvasfill models pull u2netp" in task["error"]["message"]


def _png(url: str) -> np.ndarray:
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as image:
        assert (image.format, image.mode) == ("PNG", "L")
        return np.asarray(image)


def test_a_removal_returns_the_mask_it_filled_signed_like_its_results(free: LiveService) -> None:
    key = free.new_key()
    with free.client(key) as client:
        response = client.post(
            "/v1/remove",
            files={"image": ("photo.png", PHOTO, "image/png")},
            data={
                "rectangles": '[{"x": 10, "y": 20, "width": 30, "height": 15}]',
                "detect": "text",
                "engine": "telea",
                "n": "2",
            },
            headers={"Prefer": "wait=30"},
        )
    task = response.json()
    assert task["status"] == "succeeded", task
    assert task["mask"].startswith(free.base_url)
    assert "signature=" in task["mask"]
    mask = _png(task["mask"])
    assert mask.shape == (HEIGHT, WIDTH)
    assert set(np.unique(mask).tolist()) == {0, 255}
    painted = np.zeros((HEIGHT, WIDTH), dtype=bool)
    painted[20:35, 10:40] = True
    assert (mask[painted] == 255).all()  # the rectangle ...
    assert (mask[CAPTION] == 255).all()  # ... and the caption found
    assert not (mask[:15] == 255).any()  # nothing else
    forged = task["mask"].replace("signature=", "signature=0")
    assert httpx.get(forged).status_code == 403
    with free.runtime.sessions.begin() as session:
        session.execute(
            update(Task)
            .where(Task.id == task["id"])
            .values(results_expire_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with free.client(key) as client:
        expired = client.get(f"/v1/tasks/{task['id']}").json()
    assert (expired["results"], expired["mask"]) == ([], None)


def test_a_mask_task_mask_is_its_result_and_an_expansion_has_none(free: LiveService) -> None:
    with free.client(free.new_key()) as client:
        wait = {"Prefer": "wait=30"}
        found = client.post(
            "/v1/masks", json={"image": b64(PHOTO), "detect": "text"}, headers=wait
        ).json()
        expanded = client.post(
            "/v1/expand",
            json={"image": b64(PHOTO), "pixels": {"right": 16}, "engine": "telea"},
            headers=wait,
        ).json()
    assert found["mask"] == found["results"][0]["url"]
    assert expanded["status"] == "succeeded", expanded
    assert expanded["mask"] is None
