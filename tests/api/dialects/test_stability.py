"""Stability-style outpaint: pixels per side, creativity, seed, output_format."""

from __future__ import annotations

import base64

import pytest

from canvasfill.api.dialects import stability
from canvasfill.api.dialects.fields import FieldReader
from canvasfill.engines.base import SEED_MAX
from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.encode import OutputFormat
from canvasfill.pipeline.spec import PixelExpansion
from tests.api.dialects.conftest import PNG_BYTES, task


def _parse(**form: object) -> object:
    return stability.parse(FieldReader(form), PNG_BYTES).spec


def test_the_reference_example() -> None:
    # data={"left": 200, "down": 200, "output_format": "webp"}
    spec = stability.parse(
        FieldReader({"left": 200, "down": 200, "output_format": "webp"}), PNG_BYTES
    ).spec
    assert spec.geometry == PixelExpansion(left=200, right=0, top=0, bottom=200)
    assert spec.output.format is OutputFormat.WEBP
    assert spec.strength == 0.75  # creativity's default 0.5, as a diffusion strength
    assert 1 <= spec.seed <= SEED_MAX  # absent seed: random


def test_fields() -> None:
    form = {"up": "2000", "right": "1", "creativity": "0", "seed": "4294967294", "prompt": "p"}
    spec = stability.parse(FieldReader(form), PNG_BYTES).spec
    assert spec.geometry == PixelExpansion(right=1, top=2000)
    assert (spec.strength, spec.seed, spec.prompt) == (0.5, SEED_MAX, "p")
    assert spec.output.format is OutputFormat.PNG
    assert spec.limits == "stability"


def test_seed_zero_is_random() -> None:
    seeds = {
        stability.parse(FieldReader({"left": 5, "seed": "0"}), PNG_BYTES).spec.seed
        for _ in range(4)
    }
    assert 0 not in seeds
    assert len(seeds) > 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("left", "2001"),
        ("down", "-1"),
        ("up", "1.5"),
        ("creativity", "1.01"),
        ("creativity", "-0.1"),
        ("seed", "4294967295"),
        ("seed", "-1"),
        ("output_format", "gif"),
    ],
)
def test_invalid_fields(field: str, value: str) -> None:
    form = {"left": "10", field: value}
    with pytest.raises(InputError) as caught:
        stability.parse(FieldReader(form), PNG_BYTES)
    assert caught.value.field == field
    status, body = stability.render_error(caught.value.code, caught.value.message)
    assert status == 400
    assert body == {"code": -1, "message": caught.value.message, "data": None}


def test_at_least_one_side() -> None:
    with pytest.raises(InputError) as caught:
        stability.parse(FieldReader({"left": "0"}), PNG_BYTES)
    assert "at least one" in caught.value.message


def test_missing_image() -> None:
    with pytest.raises(InputError) as caught:
        stability.parse(FieldReader({"left": "5"}), None)
    assert caught.value.code is ErrorCode.MISSING_PARAMETER


def test_success_and_failure_bodies() -> None:
    status, body = stability.render_task(task())
    assert status == 200
    assert body["code"] == 0
    assert body["message"] == "success"
    assert base64.b64decode(body["data"]["image"]) == PNG_BYTES
    assert body["data"]["seed"] == 1234
    status, body = stability.render_task(
        task("failed", error_code="engine_failed", error_message="boom")
    )
    assert status == 500
    assert body == {"code": -1, "message": "boom", "data": None}


def test_auth_and_credit_statuses() -> None:
    assert stability.render_error("unauthorized", "no")[0] == 401
    assert stability.render_error("insufficient_credits", "no")[0] == 402
