"""``FillOptions``: one value for what ``expand`` and ``remove`` share."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import fields

import pytest

from canvasfill.cli.fill import expand, remove
from canvasfill.cli.options import FillOptions


@pytest.mark.parametrize("command", [expand, remove])
def test_every_option_is_a_flag_of_both_fill_commands(command: Callable[..., None]) -> None:
    parameters = inspect.signature(command).parameters
    assert {field.name for field in fields(FillOptions)} <= set(parameters)


def test_options_are_read_by_name_and_are_frozen() -> None:
    arguments = {field.name: getattr(FillOptions(), field.name) for field in fields(FillOptions)}
    arguments.update(prompt="a lake", n=3, engine="telea", geometry="ignored")
    options = FillOptions.from_arguments(arguments)
    assert (options.prompt, options.n, options.engine) == ("a lake", 3, "telea")
    with pytest.raises(AttributeError):
        options.n = 4  # type: ignore[misc]
