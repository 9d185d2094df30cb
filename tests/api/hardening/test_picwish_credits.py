"""Item 9: PicWish answers no credits with a final status, and 429 only with Retry-After."""

from __future__ import annotations

from canvasfill.api.ratelimit import RateLimiter
from tests.api.dialects.live import Live
from tests.api.hardening.conftest import PHOTO_PNG, PICWISH_EXPAND


def test_no_credits_is_402_not_429(live: Live) -> None:
    key, _ = live.new_key(credits=0)
    response = live.client.post(
        PICWISH_EXPAND,
        headers={"X-API-KEY": key},
        files={"image_file": ("p.png", PHOTO_PNG, "image/png")},
    )
    assert response.status_code == 402, response.text
    assert response.json()["status"] == 402
    assert "credits" in response.json()["message"]
    assert "retry-after" not in response.headers


def test_429_carries_retry_after(live: Live, limit_clock: list[float]) -> None:
    key, _ = live.new_key()
    limiters = live.server.app.state.handler.limiters
    real, limiters["picwish"] = limiters["picwish"], RateLimiter(2.0, "picwish")
    try:
        answers = [
            live.client.get(f"{PICWISH_EXPAND}/none", headers={"X-API-KEY": key}) for _ in range(3)
        ]
    finally:
        limiters["picwish"] = real
    assert [answer.status_code for answer in answers] == [404, 404, 429]
    assert answers[-1].headers["retry-after"] == "1"
