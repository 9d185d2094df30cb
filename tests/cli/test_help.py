"""``--help`` of every command shows classic placeholders, never typer's type syntax."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from canvasfill.cli import app

runner = CliRunner()
TYPE_SYNTAX = re.compile(r"<[a-z][a-z \[\]|]*>|\{[A-Za-z_]+\}")
"""``<bool>``, ``<int range>``, ``<list[str]>``, ``{INPUT}``: what typer writes by itself."""


def _command_paths() -> list[list[str]]:
    """Every command and group of the app, as the words that reach it."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: typer.core._click.Command, path: list[str]) -> None:
        paths.append(path)
        context = typer.core._click.Context(command)
        for name in getattr(command, "list_commands", lambda _ctx: [])(context):
            walk(command.get_command(context, name), [*path, name])  # type: ignore[attr-defined]

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda path: " ".join(path) or "root")
def test_help_shows_no_type_syntax(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert TYPE_SYNTAX.findall(result.stdout) == [], result.stdout


def test_expand_help_reads_as_a_command_line_tool_does() -> None:
    text = runner.invoke(app, ["expand", "--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"Usage: .*expand \[OPTIONS\] INPUT\s", text), text
    assert re.search(r"--left +FLOAT \[0\.0<=x<=10\.0\]", text), text
    assert re.search(r"--output +-o +PATH", text), text
    json_row = next(line for line in text.splitlines() if "--json" in line)
    assert "BOOLEAN" not in json_row
    assert re.search(r"--box +X,Y,W,H", runner.invoke(app, ["remove", "--help"]).stdout)
