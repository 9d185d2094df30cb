"""A door module holds only its declaration, parsing and rendering (issue 20): it imports
no store, dispatcher, acceptance or handler step, and calls none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import canvasfill

API = Path(canvasfill.__file__).parent / "api"
DOOR_MODULES = sorted([*(API / "dialects").glob("*.py"), API / "native" / "door.py"])
FORBIDDEN_MODULES = (
    "canvasfill.jobs.tasks",
    "canvasfill.jobs.accept",
    "canvasfill.jobs.dispatch",
    "canvasfill.jobs.runtime",
    "canvasfill.jobs.events",
    "canvasfill.storage",
    "canvasfill.api.steps",
    "canvasfill.api.handler",
    "canvasfill.api.service",
)
FORBIDDEN_CALLS = {"authorize", "authorize_kling_jwt", "accept", "accept_task", "submit", "wait"}


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def called(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                names.add(function.id)
            elif isinstance(function, ast.Attribute):
                names.add(function.attr)
    return names


def test_the_door_modules_are_found() -> None:
    assert {path.stem for path in DOOR_MODULES} >= {
        "ailab",
        "kling",
        "picwish",
        "stability",
        "door",
    }


@pytest.mark.parametrize("path", DOOR_MODULES, ids=lambda path: path.stem)
def test_a_door_module_touches_no_store_and_runs_no_step(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    reached = {
        name for name in imported(tree) for banned in FORBIDDEN_MODULES if name.startswith(banned)
    }
    assert reached == set()
    assert called(tree) & FORBIDDEN_CALLS == set()


def test_the_check_sees_a_forbidden_call(tmp_path: Path) -> None:
    module = tmp_path / "door.py"
    module.write_text("from canvasfill.api.steps import accept_task\naccept_task(1)\n")
    tree = ast.parse(module.read_text())
    assert "canvasfill.api.steps" in imported(tree)
    assert "accept_task" in called(tree)
