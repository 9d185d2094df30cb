"""Stability's v2beta edits against the live app, as its documentation's examples send them.

The documented Python example, with only the host changed::

    requests.post(f"{host}/v2beta/stable-image/edit/outpaint",
                  headers={"authorization": f"Bearer {key}", "accept": "image/*"},
                  files={"image": open("./dog.png", "rb")},
                  data={"left": 200, "down": 200, "output_format": "webp"})
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from canvasfill.sample import sample_photo
from tests.api.dialects.live import Live, live_app
from tests.conftest import decode_pixels, encode

PHOTO = sample_photo(96, 80, seed=13)
PHOTO_PNG = encode(PHOTO)
EDIT = "/v2beta/stable-image/edit/"


def _mask() -> bytes:
    """White marks what to erase: a 20x20 square."""
    mask = np.zeros((80, 96), dtype=np.uint8)
    mask[30:50, 40:60] = 255
    return encode(mask)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("stability-v2"))


def _headers(live: Live, accept: str | None = "image/*") -> dict[str, str]:
    headers = {"authorization": f"Bearer {live.key}"}
    if accept is not None:
        headers["accept"] = accept
    return headers


def test_outpaint_documented_example(live: Live) -> None:
    response = live.client.post(
        EDIT + "outpaint",
        headers=_headers(live),
        files={"image": ("dog-wearing-vr-goggles.png", PHOTO_PNG)},
        data={"left": 200, "down": 200, "output_format": "webp"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["finish-reason"] == "SUCCESS"
    assert int(response.headers["seed"]) > 0  # absent seed: random, reported
    with Image.open(io.BytesIO(response.content)) as image:
        assert (image.format, image.size) == ("WEBP", (296, 280))


def test_outpaint_top_bottom_and_no_accept(live: Live) -> None:
    response = live.client.post(
        EDIT + "outpaint",
        headers=_headers(live, accept=None),
        files={"image": ("x", PHOTO_PNG, "application/octet-stream")},
        data={"top": 8, "bottom": 4, "seed": 7},
    )
    assert response.status_code == 200, response.text
    assert response.headers["seed"] == "7"
    pixels = decode_pixels(response.content)
    assert pixels.shape == (92, 96, 3)
    assert np.array_equal(pixels[8:88], PHOTO)


def test_erase_with_mask_as_json(live: Live) -> None:
    response = live.client.post(
        EDIT + "erase",
        headers=_headers(live, accept="application/json"),
        files={"image": ("husky-in-a-field.png", PHOTO_PNG), "mask": ("husky-mask.png", _mask())},
        data={"output_format": "png", "seed": 42},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["finish_reason"], body["seed"]) == ("SUCCESS", 42)
    pixels = decode_pixels(base64.b64decode(body["image"]))
    assert pixels.shape == (80, 96, 3)
    assert np.array_equal(pixels[:20], PHOTO[:20])  # far from the grown mask: exact


def test_erase_by_the_images_own_transparency(live: Live) -> None:
    holed = np.dstack([PHOTO, np.full((80, 96), 255, dtype=np.uint8)])
    holed[30:50, 40:60, 3] = 0
    response = live.client.post(
        EDIT + "erase",
        headers=_headers(live),
        files={"image": ("holed.png", encode(holed))},
        data={"grow_mask": 0},
    )
    assert response.status_code == 200, response.text
    pixels = decode_pixels(response.content)
    assert pixels.shape == (80, 96, 3)  # the filled hole is opaque: no alpha left
    keep = np.ones((80, 96), dtype=bool)
    keep[30:50, 40:60] = False
    assert np.array_equal(pixels[keep], PHOTO[keep])


def test_inpaint_documented_example(live: Live) -> None:
    response = live.client.post(
        EDIT + "inpaint",
        headers=_headers(live),
        files={"image": ("husky-in-a-field.png", PHOTO_PNG), "mask": ("husky-mask.png", _mask())},
        data={
            "prompt": "golden retriever standing in a field",
            "output_format": "jpeg",
            "style_preset": "photographic",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("path", "files", "data", "message"),
    [
        ("inpaint", {"mask": _mask()}, {}, "prompt"),  # inpaint's prompt is required
        ("erase", {}, {}, "transparent"),  # an opaque image and no mask
        ("outpaint", {}, {"left": 0}, "at least one"),
        ("outpaint", {}, {"left": 2001}, "left"),
        ("erase", {"mask": _mask()}, {"grow_mask": 21}, "grow_mask"),
        ("outpaint", {}, {"left": 5, "output_format": "gif"}, "output_format"),
    ],
)
def test_refusals_in_stability_envelope(
    live: Live, path: str, files: dict[str, bytes], data: dict[str, object], message: str
) -> None:
    response = live.client.post(
        EDIT + path,
        headers=_headers(live, accept="application/json"),
        files={"image": ("p.png", PHOTO_PNG), **files},
        data=data,
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"id", "name", "errors"}
    assert body["name"] == "bad_request"
    assert body["id"] == response.headers["x-request-id"]
    assert message in body["errors"][0]


def test_small_image_key_credits_and_paths(live: Live) -> None:
    small = live.client.post(
        EDIT + "outpaint",
        headers=_headers(live),
        files={"image": ("s.png", encode(np.zeros((32, 32, 3), np.uint8)))},
        data={"left": 10},
    )
    assert small.status_code == 400
    assert "64" in small.json()["errors"][0]
    no_key = live.client.post(EDIT + "erase", files={"image": ("p.png", PHOTO_PNG)})
    assert no_key.status_code == 401
    assert no_key.json()["name"] == "unauthorized"
    key, _key_id = live.new_key(credits=0)
    poor = live.client.post(
        EDIT + "outpaint",
        headers={"authorization": f"Bearer {key}"},
        files={"image": ("p.png", PHOTO_PNG)},
        data={"left": 10},
    )
    assert poor.status_code == 402
    assert poor.json()["name"] == "payment_required"
    unknown = live.client.post(EDIT + "upscale", headers=_headers(live))
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"id", "name", "errors"}
    wrong_method = live.client.get(EDIT + "outpaint", headers=_headers(live))
    assert wrong_method.status_code == 405
    assert wrong_method.json()["name"] == "method_not_allowed"
