"""Issue 14 (hardening): each item reproduced over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from canvasfill.sample import sample_photo
from tests.api.dialects.live import Live, live_app
from tests.conftest import encode

PHOTO = sample_photo(400, 320, seed=5)
PHOTO_PNG = encode(PHOTO)

AILAB_EXPAND = "/api/image/editing/ai-image-extender"
AILAB_REMOVE = "/api/image/editing/remove-objects-advanced"
PICWISH_EXPAND = "/api/tasks/visual/advanced-image-expand"
PICWISH_INPAINT = "/api/tasks/visual/inpaint"
KLING = "/v1/images/editing/expand"
STABILITY = "/api/edit/outpaint"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from live_app(tmp_path_factory.mktemp("hardening"))


def kling_headers(live: Live, key_id: str | None = None, **claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.kling_token(key_id, **claims)}"}
