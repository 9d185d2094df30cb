"""Issue 26 item 12: a GIF or bomb mask on native ``/v1/remove`` names ``mask``, not ``image``."""

from __future__ import annotations

import pytest

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PHOTO, PHOTO_PNG
from tests.conftest import encode
from tests.imaging.test_masks import _png_declaring

GIF_MASK = encode(PHOTO[:, :, 0], "GIF")


@pytest.mark.parametrize(
    ("mask", "code"),
    [(GIF_MASK, "unsupported_format"), (_png_declaring(60000, 60000), "decompression_bomb")],
    ids=["gif", "bomb"],
)
def test_native_remove_names_the_mask_field(live: Live, mask: bytes, code: str) -> None:
    response = live.client.post(
        "/v1/remove",
        headers={"Authorization": f"Bearer {live.key}"},
        files={
            "image": ("p.png", PHOTO_PNG, "image/png"),
            "mask": ("m.png", mask, "image/png"),
        },
        data={"engine": "telea"},
    )
    assert response.status_code in (415, 422), response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == "mask"
