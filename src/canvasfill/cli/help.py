"""``--help`` in the words command-line tools use: ``INPUT``, ``PATH``, ``INTEGER``.

typer (0.29) writes each parameter's Python type as a placeholder: ``<bool>`` after
every flag (which takes no value at all), ``{INPUT}`` for a required argument in the
usage line and ``<list[str]>`` for a repeatable option. Those read as syntax to type.
:func:`plain_help` gives every command of an app the classic forms instead: no
placeholder after a flag, ``INPUT`` (required) or ``[INPUT]`` (optional) in the usage
line, and an upper-case type name (``TEXT``, ``INTEGER``, ``FLOAT``, ``PATH``) after an
option; a metavar a declaration sets itself is kept.
"""

from __future__ import annotations

import typer
from typer._click import Context, Parameter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": "BOOLEAN"}


def _type_name(param: TyperArgument | TyperOption, ctx: Context) -> str:
    """``<int range>`` → ``INTEGER``, ``<list[str]>`` → ``TEXT``, ``<a|b>`` → ``[a|b]``."""
    label = param.display_type(ctx).strip("<>").removesuffix(" range")
    if label.startswith("list[") and label.endswith("]"):
        label = label[len("list[") : -1]
    if "|" in label:
        return f"[{label}]"
    return _NAMES.get(label, label.upper())


class _PlainArgument(TyperArgument):
    """An argument shown by its name alone (in capitals) and its type in capitals."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Context) -> str | None:
        return _type_name(self, ctx)

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."


def _plain_params(params: list[Parameter], ctx: Context) -> None:
    for param in params:
        if isinstance(param, TyperArgument) and not isinstance(param, _PlainArgument):
            param.__class__ = _PlainArgument
        elif isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else _type_name(param, ctx)


def _unset_is_false(option: TyperOption | None) -> TyperOption | None:
    """The ``--help`` flag, unset as ``False`` rather than ``None``.

    typer coerces a ``None`` through a pydantic adapter, which imports pydantic (70 ms)
    on every command; a bool it takes as it is. ``canvasfill engines`` needs no pydantic
    otherwise, and a start under 0.2 s (``tests/cli/test_imports.py``).
    """
    if option is not None:
        option.default = False
    return option


class PlainCommand(TyperCommand):
    """A command whose help shows the classic placeholders (see the module)."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        _plain_params(params, ctx)
        return params

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _unset_is_false(super().get_help_option(ctx))


class PlainGroup(TyperGroup):
    """A command group whose own help (its ``--help`` flag) shows no ``<bool>``."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        _plain_params(params, ctx)
        return params

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _unset_is_false(super().get_help_option(ctx))


def plain_help(app: typer.Typer) -> typer.Typer:
    """Give ``app``, its commands and its sub-apps (recursively) the classic help."""
    app.info.cls = PlainGroup
    for command in app.registered_commands:
        command.cls = PlainCommand
    for group in app.registered_groups:
        group.cls = PlainGroup
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
    return app
