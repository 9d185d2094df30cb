"""Item 8: Kling's ``GET /account/costs``, and unknown paths or wrong methods under a
dialect's prefix answered in that dialect's own body."""

from __future__ import annotations

import pytest

from tests.api.dialects.live import Live
from tests.api.hardening.conftest import kling_headers


@pytest.mark.parametrize("path", ["/account/costs", "/v1/account/costs"])
def test_kling_account_costs_reports_the_keys_credits(live: Live, path: str) -> None:
    _key, key_id = live.new_key(credits=7)
    response = live.client.get(
        path,
        headers=kling_headers(live, key_id),
        params={"start_time": 1700000000000, "end_time": 1900000000000},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (0, "SUCCEED")
    assert body["request_id"] == response.headers["x-request-id"]
    data = body["data"]
    assert data["code"] == 0
    (pack,) = data["resource_pack_subscribe_infos"]
    assert pack["remaining_quantity"] == 7
    assert pack["total_quantity"] == 7
    assert pack["status"] == "online"
    assert isinstance(pack["effective_time"], int)
    assert pack["resource_pack_id"] == key_id


def test_kling_account_costs_with_no_credits_left_is_runout(live: Live) -> None:
    _key, key_id = live.new_key(credits=0)
    response = live.client.get("/account/costs", headers=kling_headers(live, key_id))
    (pack,) = response.json()["data"]["resource_pack_subscribe_infos"]
    assert (pack["remaining_quantity"], pack["status"]) == (0, "runout")


def test_kling_account_costs_checks_the_token(live: Live) -> None:
    response = live.client.get("/account/costs", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["code"] == 1002
    signed_elsewhere = live.client.get(
        "/account/costs", headers={"Authorization": f"Bearer {live.kling_token('nokey')}"}
    )
    assert signed_elsewhere.json()["code"] == 1000


def test_unknown_ailab_path_and_wrong_method(live: Live) -> None:
    for method, path, status in [
        ("POST", "/api/image/editing/no-such-ai", 404),
        ("GET", "/api/image/editing/ai-image-extender", 405),
    ]:
        response = live.client.request(method, path, headers={"ailabapi-api-key": live.key})
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error_code"] == status
        assert body["error_detail"]["status_code"] == status
        assert body["error_detail"]["code"] == "ERROR_AI_NOT_EXISTS"
        assert "request_id" in body


def test_unknown_picwish_path_and_wrong_method(live: Live) -> None:
    unknown = live.client.post("/api/tasks/visual/no-such-thing", headers={"X-API-KEY": live.key})
    assert unknown.status_code == 404
    assert unknown.json()["status"] == 404
    wrong = live.client.delete("/api/tasks/visual/advanced-image-expand/x")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405


def test_unknown_stability_path_and_wrong_method(live: Live) -> None:
    for method, path, status in [
        ("POST", "/api/edit/nothing", 404),
        ("GET", "/api/edit/outpaint", 405),
    ]:
        response = live.client.request(method, path)
        assert response.status_code == status
        assert response.json() == {"code": -1, "message": response.json()["message"], "data": None}


def test_unknown_kling_path_and_wrong_method(live: Live) -> None:
    unknown = live.client.get("/v1/images/editing/none")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == 1203
    # /v1/images/ is not all Kling's: OpenAI's image API lives there too
    openai = live.client.get("/v1/images/generations/none")
    assert openai.status_code == 404
    assert "code" not in openai.json()
    wrong = live.client.delete("/v1/images/editing/expand")
    assert wrong.status_code == 404
    assert wrong.json()["code"] == 1202
    assert wrong.json()["data"] is None
