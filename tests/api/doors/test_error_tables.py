"""Every door renders every ``ErrorCode``: a new code cannot slip through unrendered."""

from __future__ import annotations

import json

import pytest

from canvasfill.api.app import import_dialects
from canvasfill.api.door import DOORS, exhaustive
from canvasfill.api.errors import NATIVE_STATUS, ErrorInfo
from canvasfill.errors import ErrorCode

EXPECTED_DOORS = {"native", "ailab", "kling", "stability", "picwish", "openai", "stability-v2"}
import_dialects()  # each dialect module registers its door


def test_every_door_is_registered() -> None:
    assert set(DOORS) >= EXPECTED_DOORS


@pytest.mark.parametrize("door_name", sorted(EXPECTED_DOORS))
@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_renders_in_every_door(door_name: str, code: ErrorCode) -> None:
    door = DOORS[door_name]
    answer = door.render_error(ErrorInfo(code, f"a {code.value} happened"), "req-1")
    assert 400 <= answer.status < 600, (door_name, code)
    json.dumps(answer.body)  # a JSON body
    assert f"a {code.value} happened" in json.dumps(answer.body)


def test_the_native_table_names_every_code() -> None:
    assert set(NATIVE_STATUS) == set(ErrorCode)


def test_a_table_missing_a_code_is_refused_at_import() -> None:
    partial = {code: 400 for code in ErrorCode if code is not ErrorCode.TIMEOUT}
    with pytest.raises(RuntimeError, match="timeout"):
        exhaustive(partial, "test")
