"""Issue 26 item 14: a NaN or infinite ratio is named as such, not as out of range."""

from __future__ import annotations

import base64

import pytest

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PHOTO_PNG


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_ratio_is_refused_as_not_finite(live: Live, value: str) -> None:
    image = base64.b64encode(PHOTO_PNG).decode()
    # JSON has no NaN, but Python's (and many clients') encoders write it bare
    body = f'{{"image": "{image}", "ratios": {{"left": {value}}}}}'
    response = live.client.post(
        "/v1/expand",
        content=body,
        headers={"Authorization": f"Bearer {live.key}", "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == "ratios.left"
    assert "finite number" in error["message"], error["message"]


def test_a_non_finite_ratio_in_a_form_field_is_refused(live: Live) -> None:
    response = live.client.post(
        "/v1/expand",
        headers={"Authorization": f"Bearer {live.key}"},
        files={"image": ("p.png", PHOTO_PNG, "image/png")},
        data={"ratios": '{"left": NaN}'},
    )
    assert response.status_code == 400, response.text
    assert "finite number" in response.json()["error"]["message"]
