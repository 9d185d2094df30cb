"""AILabTools: fields, ranges, defaults and the public response fields."""

from __future__ import annotations

import base64

import pytest

from canvasfill.api.dialects import ailab
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.engines.base import SEED_MAX
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.pipeline.spec import CanvasMask, MaskRemoval, RatioExpansion
from tests.api.dialects.conftest import JPEG_BYTES, PNG_BYTES, task


def _expand(**form: object) -> object:
    return ailab.parse_expand(FieldReader(form), PNG_BYTES, None).spec


def test_extender_defaults() -> None:
    spec = ailab.parse_expand(FieldReader({}), PNG_BYTES, None).spec
    assert spec.geometry == RatioExpansion(left=0.1, right=0.1, top=0.1, bottom=0.1)
    assert (spec.steps, spec.strength, spec.guidance_scale) == (None, 0.8, 7.0)
    assert spec.seed == 0  # the default 0 is a fixed seed here
    assert (spec.output.max_width, spec.output.max_height) == (1920, 1920)
    assert spec.limits == "ailab"
    assert spec.strict_mask
    assert spec.output.format is OutputFormat.PNG


def test_extender_answers_in_the_input_format() -> None:
    spec = ailab.parse_expand(FieldReader({}), JPEG_BYTES, None).spec
    assert spec.output.format is OutputFormat.JPEG


def test_extender_fields_map_to_the_spec() -> None:
    form = {
        "top": "0",
        "bottom": "1",
        "left": "0.25",
        "right": "0.5",
        "custom_prompt": "a beach",
        "steps": "12",
        "strength": "0.1",
        "scale": "20",
        "seed": "99",
        "max_width": "0",
        "max_height": "800",
    }
    spec = ailab.parse_expand(FieldReader(form), PNG_BYTES, None).spec
    assert spec.geometry == RatioExpansion(left=0.25, right=0.5, top=0.0, bottom=1.0)
    assert spec.prompt == "a beach"
    assert (spec.steps, spec.strength, spec.guidance_scale, spec.seed) == (12, 0.1, 20.0, 99)
    assert (spec.output.max_width, spec.output.max_height) == (0, 800)


def test_seed_minus_one_draws_a_random_seed() -> None:
    seeds = {
        ailab.parse_expand(FieldReader({"seed": "-1"}), PNG_BYTES, None).spec.seed for _ in range(4)
    }
    assert len(seeds) > 1


def test_mask_switches_to_canvas_mode() -> None:
    parsed = ailab.parse_expand(FieldReader({"top": "5"}), PNG_BYTES, PNG_BYTES)
    assert parsed.spec.geometry == CanvasMask()  # ratios are not read in canvas mode
    assert parsed.mask == PNG_BYTES


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("top", "1.01"),
        ("left", "-0.1"),
        ("right", "abc"),
        ("steps", "0"),
        ("steps", "2.5"),
        ("strength", "0.09"),
        ("strength", "1.1"),
        ("scale", "0.9"),
        ("scale", "21"),
        ("seed", "-2"),
        ("max_width", "-1"),
        ("max_height", "x"),
    ],
)
def test_out_of_range_fields_are_refused_by_name(field: str, value: str) -> None:
    with pytest.raises(InputError) as caught:
        ailab.parse_expand(FieldReader({field: value}), PNG_BYTES, None)
    assert caught.value.field == field
    assert caught.value.code is ErrorCode.INVALID_PARAMETER
    status, body = ailab.render_error(caught.value.code, caught.value.message, "rid")
    assert status == 400
    assert body["error_code"] == 400
    assert body["error_detail"] == {
        "status_code": 400,
        "code": "ERROR_INVALID_PARAMETER",
        "code_message": "Invalid parameter.",
        "message": caught.value.message,
    }
    assert field in body["error_detail"]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("top", "1"),
        ("top", "0"),
        ("strength", "0.1"),
        ("strength", "1"),
        ("scale", "1"),
        ("scale", "20"),
        ("steps", "1"),
        ("seed", "-1"),
    ],
)
def test_boundaries_are_accepted(field: str, value: str) -> None:
    spec = ailab.parse_expand(FieldReader({field: value}), PNG_BYTES, None).spec
    got = {
        "top": lambda: getattr(spec.geometry, "top", None),
        "strength": lambda: spec.strength,
        "scale": lambda: spec.guidance_scale,
        "steps": lambda: spec.steps,
        "seed": lambda: 0 <= spec.seed <= SEED_MAX,  # -1: a random seed is drawn
    }[field]()
    assert got == (True if field == "seed" else float(value))


def test_all_sides_zero_is_refused() -> None:
    form = {"top": "0", "bottom": "0", "left": "0", "right": "0"}
    with pytest.raises(InputError):
        ailab.parse_expand(FieldReader(form), PNG_BYTES, None)


def test_missing_image() -> None:
    with pytest.raises(InputError) as caught:
        ailab.parse_expand(FieldReader({}), None, None)
    status, body = ailab.render_error(caught.value.code, caught.value.message, "rid")
    assert (status, body["error_detail"]["code"]) == (400, "MISSING_PARAMETERS")


def test_remove_needs_a_mask_and_uses_strict_rules() -> None:
    with pytest.raises(InputError) as caught:
        ailab.parse_remove(FieldReader({}), PNG_BYTES, None)
    assert caught.value.field == "mask"
    spec = ailab.parse_remove(FieldReader({"seed": "3"}), PNG_BYTES, PNG_BYTES).spec
    assert spec.geometry == MaskRemoval()
    assert spec.strict_mask
    assert spec.seed == 3


@pytest.mark.parametrize(
    ("code", "status", "detail"),
    [
        (ErrorCode.IMAGE_TOO_SMALL, 422, "ERROR_IMAGE_SIZE"),
        (ErrorCode.FILE_TOO_LARGE, 422, "ERROR_IMAGE_SIZE"),
        (ErrorCode.UNSUPPORTED_FORMAT, 422, "ERROR_IMAGE_FORMAT"),
        (ErrorCode.INVALID_MASK, 400, "ERROR_INVALID_PARAMETER"),
        (ErrorCode.EMPTY_MASK, 400, "PARAMETERS_CANNOT_EMPTY"),
        (ErrorCode.ENGINE_FAILED, 400, "PROCESSING_FAILURE"),
        ("unauthorized", 401, "ERROR_APPLICATIONS_NOT_EXISTS"),
        ("insufficient_credits", 429, "ERROR_NOT_ENOUGH_CREDITS"),
    ],
)
def test_error_table(code: str, status: int, detail: str) -> None:
    rendered_status, body = ailab.render_error(code, "what to change", "rid")
    assert rendered_status == status
    assert body["error_code"] == status
    assert body["error_code_str"] == detail
    assert body["error_detail"]["code"] == detail
    assert body["error_detail"]["status_code"] == status
    assert body["error_detail"]["message"] == "what to change"
    assert set(body) == {
        "request_id",
        "log_id",
        "error_code",
        "error_code_str",
        "error_msg",
        "error_detail",
    }


def test_success_body() -> None:
    status, body = ailab.render_task(task(), "rid-1")
    assert status == 200
    assert body["request_id"] == "rid-1"
    assert body["log_id"]
    assert body["error_code"] == 0
    assert body["error_code_str"] == ""
    assert body["error_msg"] == ""
    assert body["error_detail"] == {
        "status_code": 200,
        "code": "",
        "code_message": "",
        "message": "",
    }
    assert [base64.b64decode(item) for item in body["data"]["binary_data_base64"]] == [PNG_BYTES]


def test_failed_task_renders_its_error() -> None:
    failed = task("failed", error_code="engine_failed", error_message="engine 'x' failed")
    status, body = ailab.render_task(failed, "rid")
    assert status == 400
    assert body["error_detail"]["code"] == "PROCESSING_FAILURE"
    assert "data" not in body


def test_render_error_keeps_the_message() -> None:
    status, body = ailab.render_error(ErrorCode.CANVAS_TOO_LARGE, "too big", "r")
    assert (status, body["error_detail"]["message"]) == (422, "too big")
