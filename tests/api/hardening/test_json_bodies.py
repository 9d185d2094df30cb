"""Item 10: PicWish and Stability-style bodies as clients send them: JSON as well as
multipart, and Stability's ``Authentication`` header (the name its reference gives)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from service_testkit import Loopback, image_size, loopback, respond

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PHOTO_PNG, PICWISH_EXPAND, PICWISH_INPAINT, STABILITY

B64 = base64.b64encode(PHOTO_PNG).decode()


def _photo(handler: BaseHTTPRequestHandler, _state: Loopback) -> None:
    respond(handler, 200, PHOTO_PNG, {"content-type": "image/png"})


@pytest.fixture(scope="module")
def web() -> Iterator[Loopback]:
    with loopback({"/photo.png": _photo}) as server:
        yield server


def test_picwish_json_with_base64_image(live: Live) -> None:
    key, _ = live.new_key()
    response = live.client.post(
        PICWISH_EXPAND,
        headers={"X-API-KEY": key},
        json={"image_file": B64, "sync": 1, "return_type": 2, "top": 0.25, "prompt": "sky"},
    )
    assert response.status_code == 200, response.text[:300]
    data = response.json()["data"]
    assert data["state"] == 1, data
    assert image_size(base64.b64decode(data["image"])) == (480, 432)


def test_picwish_json_with_image_url(live: Live, web: Loopback) -> None:
    key, _ = live.new_key()
    response = live.client.post(
        PICWISH_EXPAND,
        headers={"X-API-KEY": key},
        json={"image_url": web.url("/photo.png"), "sync": 1},
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["data"]["state"] == 1
    assert web.hits("/photo.png")


def test_picwish_inpaint_json_with_rectangles_as_a_list(live: Live) -> None:
    key, _ = live.new_key()
    response = live.client.post(
        PICWISH_INPAINT,
        headers={"X-API-KEY": key},
        json={"image": B64, "rectangles": [{"x": 5, "y": 5, "width": 20, "height": 20}], "sync": 1},
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["data"]["state"] == 1


def test_picwish_json_with_bad_base64_is_400(live: Live) -> None:
    key, _ = live.new_key()
    response = live.client.post(
        PICWISH_EXPAND, headers={"X-API-KEY": key}, json={"image_file": "not base64!"}
    )
    assert response.status_code == 400, response.text[:300]
    assert "image_file" in response.json()["message"]


def test_stability_json_body(live: Live) -> None:
    response = live.client.post(
        STABILITY,
        headers={"authorization": live.key},
        json={"image": B64, "left": 40, "output_format": "png"},
    )
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert body["code"] == 0
    assert image_size(base64.b64decode(body["data"]["image"])) == (440, 320)


def test_stability_authentication_header(live: Live) -> None:
    response = live.client.post(
        STABILITY,
        headers={"Authentication": live.key},
        files={"image": ("p.png", PHOTO_PNG, "image/png")},
        data={"down": "16"},
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["code"] == 0
