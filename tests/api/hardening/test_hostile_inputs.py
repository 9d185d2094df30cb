"""Hostile JSON, numbers, NUL characters and headers: 400 (401 for a JWT) in each door's
envelope, never a 500 or a 503, and nothing accepted or charged first."""

from __future__ import annotations

import base64
import json
import time

import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_testkit import png

from canvasfill.api.auth import kling_secret_key

DEEP = "[" * 5000 + "]" * 5000
HUGE = "1" + "0" * 5000

JSON_DOORS = {
    "native": ("/v1/expand", "authorization", "Bearer {key}"),
    "kling": ("/v1/images/editing/expand", None, None),
    "stability": ("/api/edit/outpaint", "authorization", "{key}"),
    "picwish": ("/api/tasks/visual/advanced-image-expand", "x-api-key", "{key}"),
}


def headers_for(live, door: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    key, key_id = live.new_key()
    if door == "kling":
        return {"authorization": f"Bearer {live.kling_token(key_id)}"}
    _path, name, value = JSON_DOORS[door]
    assert name is not None
    assert value is not None
    return {name: value.format(key=key)}


def test_deep_json_and_huge_integers_are_400_at_every_door(live) -> None:  # type: ignore[no-untyped-def]
    for door, (path, _name, _value) in JSON_DOORS.items():
        for body in (DEEP, '{"a": ' + DEEP + "}", '{"n": ' + HUGE + "}"):
            headers = {**headers_for(live, door), "content-type": "application/json"}
            answer = live.client.post(path, content=body, headers=headers)
            assert answer.status_code == 400, (door, body[:20], answer.text)


def test_huge_numbers_in_fields_are_400(live) -> None:  # type: ignore[no-untyped-def]
    image = base64.b64encode(png()).decode()
    for door, field in (("stability", "left"), ("stability", "seed"), ("picwish", "top")):
        path = JSON_DOORS[door][0]
        body = '{"image": "' + image + '", "' + field + '": ' + HUGE[:401] + "}"
        headers = {**headers_for(live, door), "content-type": "application/json"}
        answer = live.client.post(path, content=body, headers=headers)
        assert answer.status_code == 400, (door, field, answer.text)
    kling = headers_for(live, "kling")
    body = '{"image": "' + image + '", "left_expansion_ratio": 1, "n": ' + HUGE[:401] + "}"
    answer = live.client.post(
        JSON_DOORS["kling"][0], content=body, headers={**kling, "content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == 1201


def test_nul_is_bad_input_not_an_outage(live) -> None:  # type: ignore[no-untyped-def]
    native = headers_for(live, "native")
    answer = live.client.post(
        "/v1/expand",
        json={"image_url": "https://example.com/a\u0000.png", "ratios": {"left": 0.1}},
        headers=native,
    )
    assert answer.status_code == 400, answer.text
    assert live.client.get("/v1/tasks/a%00b", headers=native).status_code == 400
    _key, key_id = live.new_key()
    token = live.kling_token(key_id, iss="a\u0000b")
    answer = live.client.get(
        "/v1/images/editing/expand/x", headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == 1000


def test_a_kling_exp_that_is_not_a_plain_number_is_401(live) -> None:  # type: ignore[no-untyped-def]
    _key, key_id = live.new_key()
    secret = kling_secret_key(live.server.app.state.service.runtime.settings.secret(), key_id)
    for exp in (str(int(time.time()) + 600), 10**400):
        token = jwt.encode({"iss": key_id, "exp": exp}, secret, algorithm="HS256")
        answer = live.client.get(
            "/v1/images/editing/expand", headers={"authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 401, (exp, answer.text)


def test_a_huge_prefer_wait_is_read_before_anything_is_charged(live) -> None:  # type: ignore[no-untyped-def]
    key, key_id = live.new_key(credits=5)
    answer = live.client.post(
        "/v1/expand",
        headers={"authorization": f"Bearer {key}", "prefer": "wait=" + "9" * 5000},
        files={"image": ("a.png", png(), "image/png")},
        data={"left_px": "8", "engine": "telea"},
    )
    assert answer.status_code in (200, 202), answer.text
    assert answer.headers["preference-applied"] == "wait=60"
    assert live.credits(key_id) == 4  # charged once, for the one task


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    ),
    door=st.sampled_from(sorted(JSON_DOORS)),
)
def test_any_json_value_at_any_door_is_never_a_server_error(live, value, door) -> None:  # type: ignore[no-untyped-def]
    path = JSON_DOORS[door][0]
    headers = {**headers_for(live, door), "content-type": "application/json"}
    answer = live.client.post(path, content=json.dumps(value), headers=headers)
    assert answer.status_code < 500, (door, value, answer.text)
