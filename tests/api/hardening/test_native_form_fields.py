"""Item 12: the native API's multipart takes flat fields a curl user writes:
``-F left=0.25`` (ratios), ``-F left_px=200`` (pixels), ``-F rectangles=[...]``."""

from __future__ import annotations

import json

from service_testkit import image_size

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PHOTO_PNG

IMAGE = {"image": ("p.png", PHOTO_PNG, "image/png")}


def _post(live: Live, path: str, data: dict[str, str]) -> dict[str, object]:
    response = live.client.post(
        path,
        headers={"Authorization": f"Bearer {live.key}", "Prefer": "wait=30"},
        files=IMAGE,
        data=data,
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _result_size(live: Live, body: dict[str, object]) -> tuple[int, int]:
    results = body["results"]
    assert isinstance(results, list)
    return image_size(live.client.get(results[0]["url"]).content)


def test_flat_ratio_fields(live: Live) -> None:
    body = _post(live, "/v1/expand", {"left": "0.25", "right": "0.25"})
    assert _result_size(live, body) == (600, 320)


def test_flat_pixel_fields(live: Live) -> None:
    body = _post(live, "/v1/expand", {"left_px": "200", "bottom_px": "16"})
    assert _result_size(live, body) == (600, 336)


def test_rectangles_as_form_text(live: Live) -> None:
    rectangles = json.dumps([{"x": 10, "y": 10, "width": 30, "height": 20}])
    body = _post(live, "/v1/remove", {"rectangles": rectangles})
    assert _result_size(live, body) == (400, 320)


def test_flat_and_json_ratios_together_are_refused(live: Live) -> None:
    response = live.client.post(
        "/v1/expand",
        headers={"Authorization": f"Bearer {live.key}"},
        files=IMAGE,
        data={"left": "0.25", "ratios": '{"right": 0.1}'},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "left"


def test_ratios_and_pixels_together_are_refused(live: Live) -> None:
    response = live.client.post(
        "/v1/expand",
        headers={"Authorization": f"Bearer {live.key}"},
        files=IMAGE,
        data={"left": "0.25", "top_px": "10"},
    )
    assert response.status_code == 400, response.text
