"""Item 3: integers bounded to what engines honour, all-white masks refused, short JWTs."""

from __future__ import annotations

import base64
import time

import jwt
import numpy as np
import pytest

from canvasfill.api.auth import kling_secret_key
from tests.api.dialects.live import Live
from tests.api.hardening.conftest import (
    AILAB_EXPAND,
    AILAB_REMOVE,
    KLING,
    PHOTO_PNG,
    PICWISH_EXPAND,
    PICWISH_INPAINT,
    kling_headers,
)
from tests.conftest import encode

HUGE = str(2**70)
WHITE = encode(np.full((320, 400), 255, dtype=np.uint8))


@pytest.mark.parametrize("field", ["steps", "max_width", "max_height", "seed"])
def test_ailab_refuses_huge_integers(live: Live, field: str) -> None:
    key, key_id = live.new_key(credits=10)
    response = live.client.post(
        AILAB_EXPAND,
        headers={"ailabapi-api-key": key},
        files={"image": ("p.png", PHOTO_PNG, "image/png")},
        data={field: HUGE},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error_detail"]["code"] == "ERROR_INVALID_PARAMETER"
    assert field in response.json()["error_detail"]["message"]
    assert live.credits(key_id) == 10


@pytest.mark.parametrize("field", ["steps", "seed"])
def test_picwish_refuses_huge_integers(live: Live, field: str) -> None:
    key, _ = live.new_key()
    response = live.client.post(
        PICWISH_EXPAND,
        headers={"X-API-KEY": key},
        files={"image_file": ("p.png", PHOTO_PNG, "image/png")},
        data={field: HUGE},
    )
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


def test_steps_at_the_bound_are_accepted(live: Live) -> None:
    response = live.client.post(
        PICWISH_EXPAND,
        headers={"X-API-KEY": live.key},
        files={"image_file": ("p.png", PHOTO_PNG, "image/png")},
        data={"steps": "200"},
    )
    assert response.status_code == 200, response.text


def test_an_all_white_mask_is_refused_and_not_charged(live: Live) -> None:
    key, key_id = live.new_key(credits=10)
    response = live.client.post(
        AILAB_REMOVE,
        headers={"ailabapi-api-key": key},
        files={"image": ("p.png", PHOTO_PNG, "image/png"), "mask": ("m.png", WHITE, "image/png")},
    )
    assert response.status_code == 400, response.text
    assert "nothing to keep" in response.json()["error_detail"]["message"]
    native = live.client.post(
        "/v1/remove",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "image": base64.b64encode(PHOTO_PNG).decode(),
            "mask": base64.b64encode(WHITE).decode(),
        },
    )
    assert native.status_code == 422, native.text
    assert native.json()["error"]["code"] == "full_mask"
    rectangles = '[{"x": 0, "y": 0, "width": 400, "height": 320}]'
    picwish = live.client.post(
        PICWISH_INPAINT,
        headers={"X-API-KEY": key},
        files={"image_file": ("p.png", PHOTO_PNG, "image/png")},
        data={"rectangles": rectangles},
    )
    assert picwish.status_code == 400, picwish.text
    assert live.credits(key_id) == 10


def test_a_kling_token_living_past_24_hours_is_refused(live: Live) -> None:
    now = int(time.time())
    body = {"image": base64.b64encode(PHOTO_PNG).decode(), "left_expansion_ratio": 0.1}
    forever = live.client.post(
        KLING, headers=kling_headers(live, exp=2**70, nbf=now - 5), json=body
    )
    assert forever.status_code == 401, forever.text
    assert forever.json()["code"] == 1002
    assert "24 h" in forever.json()["message"]
    secret = kling_secret_key(live.server.runtime.settings.secret(), live.key_id)
    no_start = jwt.encode({"iss": live.key_id, "exp": now + 25 * 3600}, secret, algorithm="HS256")
    answer = live.client.get(KLING, headers={"Authorization": f"Bearer {no_start}"})
    assert answer.json()["code"] == 1002
    day = live.client.get(KLING, headers=kling_headers(live, exp=now + 23 * 3600))
    assert day.status_code == 200, day.text
