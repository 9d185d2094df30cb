"""Kling: JSON fields, ratios 0..2, n, prompt length, watermark, envelope, codes."""

from __future__ import annotations

import base64

import pytest

from canvasfill.api.auth import KLING_TOKEN_EXPIRED
from canvasfill.api.dialects import kling
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.errors import ErrorCode, InputError
from canvasfill.pipeline.spec import RatioExpansion
from tests.api.dialects.conftest import PNG_BYTES, task

B64 = base64.b64encode(PNG_BYTES).decode()


def test_fields_map_to_the_spec() -> None:
    body = {
        "image": B64,
        "up_expansion_ratio": 0.1,
        "down_expansion_ratio": 2,
        "left_expansion_ratio": 0,
        "right_expansion_ratio": 0.5,
        "prompt": "sky",
        "n": 9,
        "watermark_info": {"enabled": True},
        "callback_url": "http://cb",
        "external_task_id": "e1",
    }
    parsed = kling.parse(body)
    assert parsed.image == PNG_BYTES
    assert parsed.image_url is None
    assert parsed.spec.geometry == RatioExpansion(top=0.1, bottom=2.0, left=0.0, right=0.5)
    assert (parsed.spec.n, parsed.spec.prompt, parsed.spec.limits) == (9, "sky", "kling")
    assert parsed.meta == {"watermark": True}
    assert (parsed.callback_url, parsed.external_id) == ("http://cb", "e1")


def test_url_image() -> None:
    parsed = kling.parse({"image": "https://example.test/a.png", "left_expansion_ratio": 1})
    assert parsed.image is None
    assert parsed.image_url == "https://example.test/a.png"
    assert parsed.spec.n == 1
    assert parsed.meta == {"watermark": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"image": "data:image/png;base64," + B64, "left_expansion_ratio": 1}, "image"),
        ({"image": "!!!not base64!!!", "left_expansion_ratio": 1}, "image"),
        ({"left_expansion_ratio": 1}, "image"),
        ({"image": B64, "left_expansion_ratio": 2.01}, "left_expansion_ratio"),
        ({"image": B64, "up_expansion_ratio": -0.1}, "up_expansion_ratio"),
        ({"image": B64}, "up_expansion_ratio"),
        ({"image": B64, "left_expansion_ratio": 1, "n": 10}, "n"),
        ({"image": B64, "left_expansion_ratio": 1, "n": 0}, "n"),
        ({"image": B64, "left_expansion_ratio": 1, "prompt": "x" * 2501}, "prompt"),
        (
            {"image": B64, "left_expansion_ratio": 1, "watermark_info": {"enabled": "yes"}},
            "watermark_info",
        ),
    ],
)
def test_invalid_bodies(body: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        kling.parse(body)
    assert caught.value.field == field
    status, rendered = kling.render_error(caught.value.code, caught.value.message, "rid")
    expected = (400, 1200) if caught.value.code is ErrorCode.MISSING_PARAMETER else (400, 1201)
    assert (status, rendered["code"]) == expected
    assert rendered["request_id"] == "rid"
    assert rendered["message"] == caught.value.message


def test_prompt_of_exactly_2500_is_fine() -> None:
    submission = kling.parse({"image": B64, "left_expansion_ratio": 1, "prompt": "x" * 2500})
    assert submission.spec.prompt == "x" * 2500


def test_paging() -> None:
    assert kling.page(FieldReader({})) == (1, 30)
    assert kling.page(FieldReader({"pageNum": "1000", "pageSize": "500"})) == (1000, 500)
    for bad in ({"pageNum": "0"}, {"pageNum": "1001"}, {"pageSize": "501"}):
        with pytest.raises(InputError):
            kling.page(FieldReader(bad))


def test_task_data() -> None:
    data = kling.task_data(task(external_id="e1"))
    assert data["task_status"] == "succeed"
    assert data["task_info"] == {"external_task_id": "e1"}
    assert data["task_result"]["images"] == [
        {"index": 0, "url": "http://h/files/r1?sig=x", "watermark_url": "http://h/files/w1?sig=y"}
    ]
    assert data["created_at"] == 1795262400000
    assert data["updated_at"] == 1795262403500
    assert kling.task_data(task("queued"))["task_status"] == "submitted"
    assert kling.task_data(task("running"))["task_status"] == "processing"
    failed = kling.task_data(task("failed", error_message="boom"))
    assert (failed["task_status"], failed["task_status_msg"]) == ("failed", "boom")


@pytest.mark.parametrize(
    ("code", "vendor_code", "status", "kling_code"),
    [
        (ErrorCode.UNAUTHORIZED, None, 401, 1000),
        (ErrorCode.UNAUTHORIZED, KLING_TOKEN_EXPIRED, 401, 1004),
        (ErrorCode.INSUFFICIENT_CREDITS, None, 429, 1102),
        (ErrorCode.NOT_FOUND, None, 404, 1203),
        (ErrorCode.RATE_LIMITED, None, 429, 1302),
        (ErrorCode.INTERNAL_ERROR, None, 500, 5000),
        (ErrorCode.IMAGE_TOO_SMALL, None, 400, 1201),
    ],
)
def test_error_codes(
    code: ErrorCode, vendor_code: int | None, status: int, kling_code: int
) -> None:
    rendered_status, body = kling.render_error(code, "m", "rid", vendor_code)
    assert (rendered_status, body["code"]) == (status, kling_code)
    assert body == {"code": kling_code, "message": "m", "request_id": "rid", "data": None}


def test_envelope() -> None:
    assert kling.envelope({"a": 1}, "rid") == {
        "code": 0,
        "message": "SUCCEED",
        "request_id": "rid",
        "data": {"a": 1},
    }
