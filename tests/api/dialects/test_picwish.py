"""PicWish: file-or-URL inputs, (0, 1] ratios, canvas mode, states, return types."""

from __future__ import annotations

import base64
import json

import pytest

from canvasfill.api.dialects import picwish
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.errors import ErrorCode, InputError
from canvasfill.pipeline.spec import Box, BoxRemoval, CanvasMask, MaskRemoval, RatioExpansion
from tests.api.dialects.conftest import PNG_BYTES, task


def test_defaults() -> None:
    parsed = picwish.parse_expand(FieldReader({}), PNG_BYTES, None)
    spec = parsed.spec
    assert spec.geometry == RatioExpansion(left=0.1, right=0.1, top=0.1, bottom=0.1)
    assert (spec.guidance_scale, spec.steps, spec.strength) == (7.0, None, None)
    assert spec.seed >= 1  # -1 default: random
    assert parsed.meta == {"return_type": 1, "sync": 0}
    assert spec.limits == "picwish"


def test_file_wins_over_url() -> None:
    form = {"image_url": "http://x/a.png", "mask_url": "http://x/m.png"}
    parsed = picwish.parse_expand(FieldReader(form), PNG_BYTES, PNG_BYTES)
    assert (parsed.image_url, parsed.mask_url) == (None, None)
    parsed = picwish.parse_expand(FieldReader(form), None, None)
    assert (parsed.image_url, parsed.mask_url) == ("http://x/a.png", "http://x/m.png")
    assert parsed.spec.geometry == CanvasMask()  # a mask URL is canvas mode too


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("top", "0"),
        ("left", "1.5"),
        ("scale", "0.5"),
        ("scale", "20.5"),
        ("steps", "0"),
        ("seed", "-5"),
        ("return_type", "3"),
        ("sync", "2"),
        ("strength", "1.2"),
    ],
)
def test_invalid_fields(field: str, value: str) -> None:
    with pytest.raises(InputError) as caught:
        picwish.parse_expand(FieldReader({field: value}), PNG_BYTES, None)
    assert caught.value.field == field
    status, body = picwish.render_error(caught.value.code, caught.value.message)
    assert status == 400
    assert body == {"status": 400, "message": caught.value.message}


@pytest.mark.parametrize(
    ("field", "value"), [("top", "1"), ("top", "0.0001"), ("scale", "1"), ("scale", "20")]
)
def test_boundaries(field: str, value: str) -> None:
    spec = picwish.parse_expand(FieldReader({field: value}), PNG_BYTES, None).spec
    got = spec.geometry.top if field == "top" else spec.guidance_scale
    assert got == float(value)


def test_an_image_is_required() -> None:
    with pytest.raises(InputError) as caught:
        picwish.parse_expand(FieldReader({}), None, None)
    assert caught.value.code is ErrorCode.MISSING_PARAMETER


def test_url_over_512_characters() -> None:
    with pytest.raises(InputError) as caught:
        picwish.parse_expand(FieldReader({"image_url": "http://x/" + "a" * 510}), None, None)
    assert caught.value.field == "image_url"


def test_inpaint_rectangles() -> None:
    rects = json.dumps([{"x": 1, "y": 2, "width": 3, "height": 4}])
    spec = picwish.parse_inpaint(FieldReader({"rectangles": rects}), PNG_BYTES, None).spec
    assert spec.geometry == BoxRemoval(boxes=(Box(x=1, y=2, width=3, height=4),))
    spec = picwish.parse_inpaint(FieldReader({}), PNG_BYTES, PNG_BYTES).spec
    assert spec.geometry == MaskRemoval()


@pytest.mark.parametrize(
    "rectangles",
    [
        "not json",
        "[]",
        json.dumps([{"x": 0, "y": 0, "width": 0, "height": 5}]),
        json.dumps([{"x": 0, "y": 0, "width": 1, "height": 1}] * 51),
        json.dumps({"x": 1}),
    ],
)
def test_inpaint_bad_rectangles(rectangles: str) -> None:
    with pytest.raises(InputError) as caught:
        picwish.parse_inpaint(FieldReader({"rectangles": rectangles}), PNG_BYTES, None)
    assert caught.value.field == "rectangles"


def test_inpaint_needs_a_mask_or_rectangles() -> None:
    with pytest.raises(InputError) as caught:
        picwish.parse_inpaint(FieldReader({}), PNG_BYTES, None)
    assert caught.value.code is ErrorCode.MISSING_PARAMETER


@pytest.mark.parametrize(
    ("status", "code", "state"),
    [
        ("queued", None, 0),
        ("running", None, 4),
        ("succeeded", None, 1),
        ("canceled", None, -13),
        ("failed", "download_failed", -3),
        ("failed", "image_too_large", -5),
        ("failed", "invalid_image", -7),
        ("failed", "timeout", -8),
        ("failed", "engine_failed", -9),
    ],
)
def test_states(status: str, code: str | None, state: int) -> None:
    body = picwish.render_task(task(status, error_code=code), 1)
    assert body["status"] == 200
    assert body["data"]["state"] == state
    assert body["data"]["state_detail"]


def test_done_task_with_url_and_base64() -> None:
    data = picwish.render_task(task(), picwish.RETURN_URL)["data"]
    assert data["image"] == "http://h/files/r1?sig=x"
    assert data["created_at"] == 1795262400  # Unix seconds
    assert data["completed_at"] == 1795262403
    assert data["time_elapsed"] == "2.500"
    assert data["progress"] == 100
    assert data["return_type"] == 1
    assert data["task_id"] == "t_1"
    data = picwish.render_task(task(), picwish.RETURN_BASE64)["data"]
    assert base64.b64decode(data["image"]) == PNG_BYTES


def test_created_and_errors() -> None:
    assert picwish.render_created("t_9") == {
        "status": 200,
        "message": "success",
        "data": {"task_id": "t_9"},
    }
    assert picwish.render_error("unauthorized", "bad key")[0] == 401
    assert picwish.render_error("rate_limited", "slow down")[0] == 429
    assert picwish.render_error("file_too_large", "5 MB")[0] == 413
    assert picwish.render_error("not_found", "no task")[0] == 404
