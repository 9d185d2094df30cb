"""Each dialect against the real app: its documented flows, auth, limits and error bodies."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from canvasfill.api.ratelimit import RateLimiter
from canvasfill.sample import sample_photo
from tests.api.dialects.live import Live, live_app
from tests.conftest import decode_pixels, encode

PHOTO = sample_photo(400, 320, seed=5)
PHOTO_PNG = encode(PHOTO)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("dialects"))


def _b64_image(text: str) -> np.ndarray:
    return decode_pixels(base64.b64decode(text))


# --- AILabTools ---------------------------------------------------------------------------


def test_ailab_extender_default_ratios(live: Live) -> None:
    response = live.client.post(
        "/api/image/editing/ai-image-extender",
        headers={"ailabapi-api-key": live.key},
        files={"image": ("p.png", PHOTO_PNG, "image/png")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error_code"] == 0
    assert body["error_detail"]["status_code"] == 200
    assert body["request_id"] == response.headers["x-request-id"]
    (image,) = body["data"]["binary_data_base64"]
    pixels = _b64_image(image)
    assert pixels.shape == (384, 480, 3)  # 0.1 of 320 = 32 top and bottom, of 400 = 40 sides
    assert np.array_equal(pixels[32:352, 40:440], PHOTO)


def test_ailab_max_size_fallback(live: Live) -> None:
    response = live.client.post(
        "/api/image/editing/ai-image-extender",
        headers={"ailabapi-api-key": live.key},
        files={"image": ("p.png", PHOTO_PNG, "image/png")},
        data={"left": "1", "right": "0", "top": "0", "bottom": "0", "max_width": "400"},
    )
    assert response.status_code == 200
    assert _b64_image(response.json()["data"]["binary_data_base64"][0]).shape == (160, 400, 3)


def test_ailab_remove_objects(live: Live) -> None:
    mask = np.zeros((320, 400), dtype=np.uint8)
    mask[100:150, 100:200] = 255
    response = live.client.post(
        "/api/image/editing/remove-objects-advanced",
        headers={"ailabapi-api-key": live.key},
        files={
            "image": ("p.png", PHOTO_PNG, "image/png"),
            "mask": ("m.png", encode(mask), "image/png"),
        },
    )
    assert response.status_code == 200, response.text
    pixels = _b64_image(response.json()["data"]["binary_data_base64"][0])
    assert np.array_equal(pixels[mask == 0], PHOTO[mask == 0])


@pytest.mark.parametrize(
    ("headers", "files", "data", "status", "code"),
    [
        ({}, {"image": PHOTO_PNG}, {}, 401, "ERROR_APPLICATIONS_NOT_EXISTS"),
        (
            {"ailabapi-api-key": "wrong"},
            {"image": PHOTO_PNG},
            {},
            401,
            "ERROR_APPLICATIONS_NOT_EXISTS",
        ),
        (None, {}, {}, 400, "MISSING_PARAMETERS"),
        (None, {"image": PHOTO_PNG}, {"strength": "2"}, 400, "ERROR_INVALID_PARAMETER"),
        (None, {"image": encode(np.zeros((64, 64, 3), np.uint8))}, {}, 422, "ERROR_IMAGE_SIZE"),
        (None, {"image": encode(PHOTO, "WEBP")}, {}, 422, "ERROR_IMAGE_FORMAT"),
        (None, {"image": b"not an image"}, {}, 422, "ERROR_IMAGE_FORMAT"),
    ],
)
def test_ailab_errors(
    live: Live,
    headers: dict[str, str] | None,
    files: dict[str, bytes],
    data: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = live.client.post(
        "/api/image/editing/ai-image-extender",
        headers={"ailabapi-api-key": live.key} if headers is None else headers,
        files={name: (name, blob, "application/octet-stream") for name, blob in files.items()}
        or {"custom_prompt": (None, "x")},
        data=data,
    )
    assert response.status_code == status
    body = response.json()
    assert body["error_code"] == status
    assert body["error_detail"]["code"] == code
    assert body["error_detail"]["status_code"] == status
    assert body["error_detail"]["message"]


def test_ailab_strict_mask_rules(live: Live) -> None:
    coloured = np.zeros((320, 400, 3), dtype=np.uint8)
    coloured[10:20, 10:20] = (255, 0, 0)
    response = live.client.post(
        "/api/image/editing/remove-objects-advanced",
        headers={"ailabapi-api-key": live.key},
        files={"image": ("p.png", PHOTO_PNG), "mask": ("m.png", encode(coloured))},
    )
    assert response.status_code == 400
    assert response.json()["error_detail"]["code"] == "ERROR_INVALID_PARAMETER"


# --- Stability-style ----------------------------------------------------------------------


def test_stability_reference_example_and_credits(live: Live) -> None:
    key, key_id = live.new_key(credits=20)
    # the reference's Python example: files={"image": ...}, data={"left": 200, "down": 200, ...}
    response = live.client.post(
        "/api/edit/outpaint",
        headers={"authorization": key},
        files={"image": open_photo()},
        data={"left": 200, "down": 200, "output_format": "webp"},
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["code"] == 0
    assert data["message"] == "success"
    image = base64.b64decode(data["data"]["image"])
    assert image[8:12] == b"WEBP"
    assert Image.open(io.BytesIO(image)).size == (600, 520)
    assert 1 <= data["data"]["seed"] <= 4_294_967_294
    assert live.credits(key_id) == 12  # 8 credits per successful result
    refused = live.client.post(
        "/api/edit/outpaint",
        headers={"authorization": key},
        files={"image": open_photo()},
        data={"left": 0},
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == -1
    assert live.credits(key_id) == 12  # nothing charged for a failure
    statuses = [
        live.client.post(
            "/api/edit/outpaint",
            headers={"authorization": key},
            files={"image": open_photo()},
            data={"left": 10},
        ).status_code
        for _ in range(2)
    ]
    assert statuses == [200, 402]  # 12 credits pay for one more, 4 for none
    assert live.credits(key_id) == 4


def open_photo() -> tuple[str, bytes, str]:
    return ("your-image.png", PHOTO_PNG, "image/png")


def test_stability_seed_is_honoured_and_returned(live: Live) -> None:
    answers = [
        live.client.post(
            "/api/edit/outpaint",
            headers={"authorization": f"Bearer {live.key}"},
            files={"image": open_photo()},
            data={"right": 16, "seed": 77},
        ).json()
        for _ in range(2)
    ]
    assert answers[0]["data"]["seed"] == 77
    assert answers[0]["data"]["image"] == answers[1]["data"]["image"]


def test_stability_bad_key(live: Live) -> None:
    response = live.client.post(
        "/api/edit/outpaint",
        headers={"authorization": "nope"},
        files={"image": open_photo()},
        data={"left": 5},
    )
    assert response.status_code == 401
    assert response.json()["code"] == -1


# --- PicWish ------------------------------------------------------------------------------

PICWISH = "/api/tasks/visual/advanced-image-expand"


def _poll(live: Live, path: str, key: str) -> dict[str, Any]:
    """Poll as PicWish advises (about once a second; the key's limit is 2 per second)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.6)
        response = live.client.get(path, headers={"X-API-KEY": key})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["data"]["state"] not in (0, 2, 3, 4):
            return body
    raise AssertionError("the task did not finish")


def test_picwish_async_then_polling(live: Live) -> None:
    key, _ = live.new_key()
    created = live.client.post(
        PICWISH,
        headers={"X-API-KEY": key},
        files={"image_file": open_photo()},
        data={"top": "0.5", "bottom": "0.1", "left": "0.1", "right": "0.1"},
    )
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]
    assert created.json() == {"status": 200, "message": "success", "data": {"task_id": task_id}}
    body = _poll(live, f"{PICWISH}/{task_id}", key)
    data = body["data"]
    assert data["state"] == 1
    assert data["progress"] == 100
    assert data["return_type"] == 1
    assert isinstance(data["created_at"], int)
    assert data["completed_at"] >= data["created_at"]
    url = data["image"]
    assert url.startswith(live.server.base_url + "/files/")
    fetched = live.client.get(url)  # no API key needed: the URL is signed
    assert fetched.status_code == 200
    assert decode_pixels(fetched.content).shape == (320 + 160 + 32, 480, 3)


def test_picwish_sync_base64_and_inpaint_rectangles(live: Live) -> None:
    key, _ = live.new_key()
    rects = json.dumps([{"x": 10, "y": 10, "width": 40, "height": 30}])
    response = live.client.post(
        "/api/tasks/visual/inpaint",
        headers={"X-API-KEY": key},
        files={"image_file": open_photo()},
        data={"rectangles": rects, "sync": "1", "return_type": "2"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["state"] == 1
    assert data["return_type"] == 2
    pixels = _b64_image(data["image"])
    assert np.array_equal(pixels[50:], PHOTO[50:])


def test_picwish_errors_and_unknown_task(live: Live) -> None:
    key, _ = live.new_key()
    bad = live.client.post(
        PICWISH, headers={"X-API-KEY": key}, files={"image_file": open_photo()}, data={"top": "0"}
    )
    assert bad.status_code == 400
    assert bad.json()["status"] == 400
    assert "top" in bad.json()["message"]
    assert live.client.get(f"{PICWISH}/nope", headers={"X-API-KEY": key}).status_code == 404
    unauthorized = live.client.get(f"{PICWISH}/nope", headers={"X-API-KEY": "x"})
    assert unauthorized.status_code == 401
    assert unauthorized.json()["status"] == 401


def test_picwish_rate_limit_is_two_per_second(live: Live, limit_clock: list[float]) -> None:
    key, _ = live.new_key()
    limiters = live.server.app.state.handler.limiters
    assert limiters["picwish"].rate == 2.0  # the door's own limit
    real, limiters["picwish"] = limiters["picwish"], RateLimiter(2.0, "picwish")  # fresh
    try:
        statuses = [
            live.client.get(f"{PICWISH}/none", headers={"X-API-KEY": key}).status_code
            for _ in range(3)
        ]
        assert statuses == [404, 404, 429]  # a burst of two, then refused
        limited = live.client.get(f"{PICWISH}/none", headers={"X-API-KEY": key})
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert limited.json()["status"] == 429
        limit_clock[0] += 0.5  # the two are still in the last second
        assert live.client.get(f"{PICWISH}/none", headers={"X-API-KEY": key}).status_code == 429
        limit_clock[0] += 0.51  # now they have left it
        assert live.client.get(f"{PICWISH}/none", headers={"X-API-KEY": key}).status_code == 404
    finally:
        limiters["picwish"] = real


def test_picwish_source_download_failure_is_a_task_state(live: Live) -> None:
    key, _ = live.new_key()
    created = live.client.post(
        PICWISH, headers={"X-API-KEY": key}, data={"image_url": "http://127.0.0.1:9/none.png"}
    )
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]
    data = _poll(live, f"{PICWISH}/{task_id}", key)["data"]
    assert data["state"] < 0
    assert data["state_detail"]


# --- Kling --------------------------------------------------------------------------------

KLING = "/v1/images/editing/expand"


def _kling_headers(live: Live, **claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.kling_token(**claims)}"}


def test_kling_create_query_by_external_id_and_list(live: Live) -> None:
    body = {
        "image": base64.b64encode(PHOTO_PNG).decode(),
        "left_expansion_ratio": 0.25,
        "right_expansion_ratio": 0.25,
        "n": 2,
        "watermark_info": {"enabled": True},
        "external_task_id": "order-42",
    }
    created = live.client.post(KLING, headers=_kling_headers(live), json=body)
    assert created.status_code == 200, created.text
    envelope = created.json()
    assert envelope["code"] == 0
    assert envelope["request_id"]
    task_id = envelope["data"]["task_id"]
    assert envelope["data"]["task_status"] in ("submitted", "processing", "succeed")
    deadline = time.monotonic() + 60
    while True:
        data = live.client.get(f"{KLING}/order-42", headers=_kling_headers(live)).json()["data"]
        if data["task_status"] in ("succeed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert data["task_id"] == task_id
    assert data["task_status"] == "succeed"
    assert data["task_info"] == {"external_task_id": "order-42"}
    images = data["task_result"]["images"]
    assert [image["index"] for image in images] == [0, 1]
    clean = decode_pixels(live.client.get(images[0]["url"]).content)
    marked = decode_pixels(live.client.get(images[0]["watermark_url"]).content)
    assert clean.shape == marked.shape == (320, 600, 3)
    assert not np.array_equal(clean, marked)
    assert isinstance(data["created_at"], int)
    assert data["created_at"] > 1_700_000_000_000
    by_id = live.client.get(f"{KLING}/{task_id}", headers=_kling_headers(live)).json()
    assert by_id["data"]["task_id"] == task_id
    listed = live.client.get(
        KLING, headers=_kling_headers(live), params={"pageNum": 1, "pageSize": 500}
    )
    assert task_id in [item["task_id"] for item in listed.json()["data"]]
    again = live.client.post(KLING, headers=_kling_headers(live), json=body)
    assert again.status_code == 400
    assert again.json()["code"] == 1201


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 1001),
        ({"Authorization": "Basic abc"}, 1002),
        ({"Authorization": "Bearer not-a-jwt"}, 1002),
    ],
)
def test_kling_auth_header_errors(live: Live, headers: dict[str, str], code: int) -> None:
    response = live.client.get(KLING, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_kling_token_claims(live: Live) -> None:
    now = int(time.time())
    expired = live.client.get(KLING, headers=_kling_headers(live, exp=now - 10))
    assert (expired.status_code, expired.json()["code"]) == (401, 1004)
    early = live.client.get(KLING, headers=_kling_headers(live, nbf=now + 600))
    assert (early.status_code, early.json()["code"]) == (401, 1003)
    stranger = live.client.get(KLING, headers=_kling_headers(live, iss="nobody"))
    assert (stranger.status_code, stranger.json()["code"]) == (401, 1000)
    forged = live.kling_token()[:-4] + "AAAA"
    bad = live.client.get(KLING, headers={"Authorization": f"Bearer {forged}"})
    assert (bad.status_code, bad.json()["code"]) == (401, 1002)


def test_kling_limits(live: Live) -> None:
    small = base64.b64encode(encode(np.zeros((200, 400, 3), np.uint8))).decode()
    response = live.client.post(
        KLING, headers=_kling_headers(live), json={"image": small, "left_expansion_ratio": 1}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 1201
    too_big = live.client.post(
        KLING,
        headers=_kling_headers(live),
        json={
            "image": base64.b64encode(PHOTO_PNG).decode(),
            "left_expansion_ratio": 2,
            "right_expansion_ratio": 1,
        },
    )
    assert too_big.status_code == 400
    assert "3x" in too_big.json()["message"]
    paging = live.client.get(KLING, headers=_kling_headers(live), params={"pageSize": 501})
    assert paging.status_code == 400
    assert paging.json()["code"] == 1201
    missing = live.client.get(f"{KLING}/does-not-exist", headers=_kling_headers(live))
    assert missing.status_code == 404
    assert missing.json()["code"] == 1203


def test_openapi_tags_each_dialect(live: Live) -> None:
    paths = live.client.get("/openapi.json").json()["paths"]
    tags = {
        path: {tag for operation in item.values() for tag in operation.get("tags", [])}
        for path, item in paths.items()
    }
    assert tags["/api/image/editing/ai-image-extender"] == {"ailab"}
    assert tags["/api/edit/outpaint"] == {"stability"}
    assert tags[PICWISH] == {"picwish"}
    assert tags[KLING] == {"kling"}


def test_unknown_fields_are_ignored_as_the_hosted_apis_do(live: Live) -> None:
    ailab = live.client.post(
        "/api/image/editing/ai-image-extender",
        headers={"ailabapi-api-key": live.key},
        files={"image": ("p.png", PHOTO_PNG, "image/png")},
        data={"left": "0.1", "some_future_field": "x"},
    )
    assert ailab.status_code == 200
    kling = live.client.post(
        KLING,
        headers=_kling_headers(live),
        json={
            "image": base64.b64encode(PHOTO_PNG).decode(),
            "left_expansion_ratio": 0.1,
            "model_name": "kling-v1",
        },
    )
    assert kling.status_code == 200
    assert kling.json()["code"] == 0


def test_url_inputs_are_checked_at_acceptance_by_every_door(live: Live) -> None:
    key, _ = live.new_key()
    response = live.client.post(
        PICWISH, headers={"X-API-KEY": key}, data={"image_url": "ftp://example.test/a.png"}
    )
    assert response.status_code == 400
    assert "image_url" in response.json()["message"]
    kling = live.client.post(
        KLING,
        headers=_kling_headers(live),
        json={
            "image": base64.b64encode(PHOTO_PNG).decode(),
            "left_expansion_ratio": 0.1,
            "callback_url": "not a url",
        },
    )
    assert kling.status_code == 400
    assert kling.json()["code"] == 1201
